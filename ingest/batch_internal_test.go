package ingest

import (
	"context"
	"strings"
	"testing"
)

// TestBatchesBoundedByBytes: long lines end a batch long before it has
// batchSize records, so that what three batches in flight hold stays
// bounded whatever the input (4,096 lines of 1 MiB would be 4 GiB).
func TestBatchesBoundedByBytes(t *testing.T) {
	line := strings.Repeat("x", 700<<10) // 700 KiB
	input := strings.Repeat(line+"\n", 20)
	full := make(chan *batch[int], 20)
	free := make(chan *batch[int], 20)
	for range cap(free) {
		free <- &batch[int]{recs: make([]int, 0, batchSize)}
	}
	var lines int
	parse := func(b []byte, dst *int) error { *dst = len(b); return nil }
	if err := produce(context.Background(), strings.NewReader(input), parse, full, free, nil, &lines); err != nil {
		t.Fatal(err)
	}
	close(full)
	batches, total := 0, 0
	for b := range full {
		batches++
		total += len(b.recs)
		if b.bytes > batchBytes+len(line) || b.bytes != len(b.recs)*len(line) {
			t.Errorf("a batch of %d records holds %d bytes of lines, want at most %d", len(b.recs), b.bytes, batchBytes+len(line))
		}
	}
	if total != 20 || lines != 20 || batches < 20*len(line)/(batchBytes+len(line)) {
		t.Errorf("%d records in %d batches (%d lines read), want 20 in at least %d", total, batches, lines, 20*len(line)/(batchBytes+len(line)))
	}
}
