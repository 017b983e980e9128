package admin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/numfmt"
)

// pageNames are the page templates; each is parsed with layout.html and
// partials.html into its own set, so every page can define "content".
var pageNames = []string{"login", "index", "detail", "form", "delete", "error"}

func (s *Server) parseTemplates() error {
	funcs := template.FuncMap{
		"when":     func(t *time.Time) string { return fmtTime(t) },
		"ago":      func(t *time.Time) string { return s.ago(t) },
		"agoT":     func(t time.Time) string { return s.ago(&t) },
		"whenT":    func(t time.Time) string { return fmtTime(&t) },
		"lag":      fmtSeconds,
		"count":    fmtCount,
		"kindName": kindName,
		"join":     strings.Join,
		"int64":    func(i int) int64 { return int64(i) },
		"sentence": sentence,
		"invalid":  invalidAttr,
		"fe":       fieldErrFor,
		"runDur": func(start time.Time, end *time.Time) string {
			if end == nil {
				return "running"
			}
			return fmtDuration(end.Sub(start))
		},
	}
	s.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("admin: parse template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	h := sha256.New()
	err := fs.WalkDir(staticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(path)
		h.Write(b)
		return err
	})
	if err != nil {
		return fmt.Errorf("admin: hash assets: %w", err)
	}
	s.assetVer = hex.EncodeToString(h.Sum(nil))[:12]
	return nil
}

func fmtTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func (s *Server) ago(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	d := s.now().Sub(*t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

func fmtSeconds(sec float64) string {
	if sec <= 0 || math.IsNaN(sec) {
		return "—"
	}
	return fmtDuration(time.Duration(sec * float64(time.Second)))
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d days %d h", int(d.Hours()/24), int(d.Hours())%24)
}

// fmtCount writes an integer with thin thousands separators: 12 345.
func fmtCount(n int64) string { return numfmt.Group(n, "\u202f") }

func kindName(k siemsync.Kind) string {
	switch k {
	case siemsync.KindHEC:
		return "Splunk HEC"
	case siemsync.KindSyslog:
		return "Syslog CEF"
	}
	return string(k)
}

// invalidAttr marks an input that has an error and links it to the message.
func invalidAttr(errs map[string]string, name string) template.HTMLAttr {
	if _, ok := errs[name]; !ok {
		return ""
	}
	// name is one of the form's fixed field names, never user input.
	return template.HTMLAttr(`aria-invalid="true" aria-describedby="` + template.HTMLEscapeString(name) + `-error"`)
}

type fieldErrView struct{ Name, Msg string }

func fieldErrFor(errs map[string]string, name string) *fieldErrView {
	msg, ok := errs[name]
	if !ok {
		return nil
	}
	return &fieldErrView{Name: name, Msg: msg}
}

// sentence capitalizes the first letter of a message that is shown on its
// own, such as a warning or an error.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}
