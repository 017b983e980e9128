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
		for page, err := range pages(fakeFetch(n, 0, &reads), 0, 3, seq) {
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
	for range pages(fakeFetch(100, 0, &reads), 0, 3, seq) {
		break
	}
	if reads > 2 {
		t.Fatalf("%d reads after stopping at the first page", reads)
	}
	reads = 0
	var err error
	n := 0
	for page, e := range pages(fakeFetch(100, 6, &reads), 0, 3, seq) {
		n += len(page)
		err = e
	}
	if err == nil || n != 6 {
		t.Fatalf("err %v after %d records", err, n)
	}
}
