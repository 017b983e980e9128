package sync

import (
	"reflect"
	"testing"

	"github.com/siemsync/siemsync/store"
)

// TestWindow feeds answers in various orders and checks that the
// checkpoint only covers the contiguous resolved prefix and that
// everything resolved beyond it comes back as a range.
func TestWindow(t *testing.T) {
	type resolve struct {
		batch, lo, hi int
		ranges        []store.Range // what resolve must return
		checkpoint    int64         // after advance
	}
	// Batch 0 covers seqs 11..15 (16 filtered at its end), batch 1 21..23,
	// batch 2 has nothing sent but covers up to 30.
	batches := []struct {
		seqs []int64
		cp   int64
	}{{[]int64{11, 12, 13, 14, 15}, 16}, {[]int64{21, 22, 23}, 23}, {nil, 30}}
	tests := []struct {
		name  string
		steps []resolve
	}{
		{"in order", []resolve{
			// Up to the first event of batch 1: what lies between was
			// filtered at the start of batch 1.
			{0, 0, 5, nil, 20},
			{1, 0, 3, nil, 30}, // the empty batch behind it goes too
		}},
		{"later batch first", []resolve{
			{1, 0, 3, []store.Range{{Lo: 21, Hi: 23}}, 10},
			{0, 0, 5, nil, 30},
		}},
		{"split inside the head batch", []resolve{
			{0, 0, 2, nil, 12},
			{0, 3, 5, []store.Range{{Lo: 14, Hi: 15}}, 12},
			{0, 2, 3, nil, 20}, // 13 closes the gap: up to the first event of batch 1, minus one
		}},
		{"gap never closed", []resolve{
			{0, 1, 5, []store.Range{{Lo: 12, Hi: 15}}, 10},
			{1, 0, 3, []store.Range{{Lo: 21, Hi: 23}}, 10},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &window{checkpoint: 10}
			var es []*entry
			for _, b := range batches {
				es = append(es, w.add(b.seqs, b.cp))
			}
			for i, st := range tt.steps {
				got := w.resolve(es[st.batch], st.lo, st.hi)
				if !reflect.DeepEqual(got, st.ranges) {
					t.Errorf("step %d: resolve ranges %v, want %v", i, got, st.ranges)
				}
				cp, _ := w.advance()
				if cp != st.checkpoint {
					t.Errorf("step %d: checkpoint %d, want %d", i, cp, st.checkpoint)
				}
			}
		})
	}
}

// TestWindowNeverBackwards: a window that starts above the sequences of its
// first batch (active jobs below the jobs checkpoint are sent every cycle)
// keeps its starting checkpoint.
func TestWindowNeverBackwards(t *testing.T) {
	w := &window{checkpoint: 100}
	e := w.add([]int64{5, 7, 150}, 150)
	w.resolve(e, 2, 3)
	if cp, moved := w.advance(); cp != 100 || moved {
		t.Fatalf("checkpoint %d (moved %v), want 100 unmoved", cp, moved)
	}
}

func TestRangeSet(t *testing.T) {
	r := ranges([]store.Range{{Lo: 3, Hi: 5}, {Lo: 9, Hi: 9}})
	var got []int64
	for seq := int64(1); seq <= 12; seq++ {
		if r.has(seq) {
			got = append(got, seq)
		}
	}
	if want := []int64{3, 4, 5, 9}; !reflect.DeepEqual(got, want) {
		t.Fatalf("skipped %v, want %v", got, want)
	}
}
