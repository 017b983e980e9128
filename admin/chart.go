package admin

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"slices"
	"strings"

	"github.com/siemsync/siemsync/store"
)

// Chart geometry, in SVG user units. The SVG scales to its container's
// width; bars keep their proportions because every slot has the same width.
const (
	chartSlotW = 10
	chartBarW  = 7
	chartH     = 40
)

// eventsChart draws events sent per recent cycle as SVG bars, oldest on the
// left, one slot per cycle (slots stays fixed so bar widths do not jump).
// A failed cycle is a red stub; every bar has a tooltip. All text is
// escaped, so the result is safe to embed.
func eventsChart(runs []store.Run, slots int) template.HTML {
	runs = slices.Clone(runs)
	slices.SortFunc(runs, func(a, b store.Run) int { return cmp.Compare(a.ID, b.ID) })
	if len(runs) > slots {
		runs = runs[len(runs)-slots:]
	}
	var peak int64 = 1
	for _, r := range runs {
		peak = max(peak, r.Events)
	}
	w := slots * chartSlotW
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" preserveAspectRatio="none" role="img" aria-label="%s">`,
		w, chartH+2, html.EscapeString(chartSummary(runs)))
	fmt.Fprintf(&b, `<line class="chart-base" x1="0" y1="%d" x2="%d" y2="%d"/>`, chartH+1, w, chartH+1)
	off := slots - len(runs)
	for i, r := range runs {
		x := (off+i)*chartSlotW + (chartSlotW-chartBarW)/2
		h := int(float64(r.Events) / float64(peak) * chartH)
		class := "bar"
		switch {
		case r.Error != "":
			class, h = "bar bar-fail", max(h, 6)
		case r.Finished == nil:
			class, h = "bar bar-run", max(h, 2)
		case r.Events == 0:
			h = 1
		default:
			h = max(h, 2)
		}
		fmt.Fprintf(&b, `<rect class="%s" x="%d" y="%d" width="%d" height="%d"><title>%s</title></rect>`,
			class, x, chartH+1-h, chartBarW, h, html.EscapeString(barTitle(r)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every interpolated string is escaped above
}

func barTitle(r store.Run) string {
	t := r.Started.UTC().Format("Jan 2 15:04 UTC")
	switch {
	case r.Error != "":
		return fmt.Sprintf("%s · failed after %s events: %s", t, fmtCount(r.Events), r.Error)
	case r.Finished == nil:
		return fmt.Sprintf("%s · running, %s events so far", t, fmtCount(r.Events))
	case r.SetAside > 0:
		return fmt.Sprintf("%s · %s events sent, %d set aside", t, fmtCount(r.Events), r.SetAside)
	}
	return fmt.Sprintf("%s · %s events sent", t, fmtCount(r.Events))
}

func chartSummary(runs []store.Run) string {
	if len(runs) == 0 {
		return "Events sent per cycle: no cycles yet"
	}
	var total int64
	failed := 0
	for _, r := range runs {
		total += r.Events
		if r.Error != "" {
			failed++
		}
	}
	return fmt.Sprintf("Events sent per cycle, last %d cycles: %s in total, %d failed", len(runs), fmtCount(total), failed)
}
