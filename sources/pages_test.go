package sources

import (
	"errors"
	"testing"
)

// fakeFetch serves records 1..n in pages and counts the reads.
func fakeFetch(n int, fail int64, reads *int) func(after int64, dst []int64) ([]int64, error) {
	return func(after int64, dst []int64) ([]int64, error) {
		*reads++
		if fail > 0 && after >= fail {
			return dst, errors.New("boom")
		}
		for s := after + 1; s <= int64(n) && len(dst) < 3; s++ {
			dst = append(dst, s)
		}
		return dst, nil
	}
}

func TestPagesReadAhead(t *testing.T) {
	seq := func(s *int64) int64 { return *s }
	for _, n := range []int{0, 1, 3, 7, 9} {
		reads := 0
		var got []int64
		for page, err := range pages(fakeFetch(n, 0, &reads), 0, 3, seq, nil) {
			if err != nil {
				t.Fatal(err)
			}
			// The page must stay intact while the next one is read.
			snapshot := append([]int64(nil), page...)
			got = append(got, page...)
			for i := range page {
				if page[i] != snapshot[i] {
					t.Fatalf("page changed under the caller")
				}
			}
		}
		if len(got) != n {
			t.Fatalf("n=%d: got %v", n, got)
		}
		for i, s := range got {
			if s != int64(i+1) {
				t.Fatalf("n=%d: got %v", n, got)
			}
		}
	}
}

func TestPagesStopAndError(t *testing.T) {
	seq := func(s *int64) int64 { return *s }
	reads := 0
	for range pages(fakeFetch(100, 0, &reads), 0, 3, seq, nil) {
		break
	}
	if reads > 2 {
		t.Fatalf("%d reads after stopping at the first page", reads)
	}
	reads = 0
	var err error
	n := 0
	for page, e := range pages(fakeFetch(100, 6, &reads), 0, 3, seq, nil) {
		n += len(page)
		err = e
	}
	if err == nil || n != 6 {
		t.Fatalf("err %v after %d records", err, n)
	}
}

// TestPagesFirstRead: a first page read already (a store's BeginCycle) is
// yielded as it is, and the walk goes on after its last record.
func TestPagesFirstRead(t *testing.T) {
	seq := func(s *int64) int64 { return *s }
	for _, c := range []struct {
		first     []int64
		n         int
		wantReads int
	}{
		{[]int64{}, 7, 0},        // read: nothing after the checkpoint
		{[]int64{1, 2}, 7, 0},    // a short page is the last
		{[]int64{1, 2, 3}, 7, 2}, // a full one: 4-6, then 7
	} {
		reads := 0
		var got []int64
		for page, err := range pages(fakeFetch(c.n, 0, &reads), 0, 3, seq, c.first) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, page...)
		}
		want := c.first
		if len(c.first) == 3 {
			want = []int64{1, 2, 3, 4, 5, 6, 7}
		}
		if reads != c.wantReads || len(got) != len(want) {
			t.Fatalf("first %v: got %v in %d reads, want %v in %d", c.first, got, reads, want, c.wantReads)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("first %v: got %v, want %v", c.first, got, want)
			}
		}
	}
}
