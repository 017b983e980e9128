package siemsync

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestSnapshotID(t *testing.T) {
	t0 := time.Date(2025, 11, 21, 10, 0, 0, 123_000_000, time.UTC)
	base := SnapshotID("job-42", 7, t0)

	// The id is what the destination deduplicates on, so it must not change
	// between versions. The value was computed outside Go:
	// python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('8f1d4a4e-3c55-4d55-9a35-6f2b8e8f4a11'), 'job-42/7/1763719200123'))"
	if want := "e418f933-6f57-548e-8683-05a00d5cbad1"; base != want {
		t.Errorf("SnapshotID(job-42, 7, %s) = %s, want %s", t0, base, want)
	}
	u, err := uuid.Parse(base)
	if err != nil || u.Version() != 5 || u.Variant() != uuid.RFC4122 || u.String() != base {
		t.Fatalf("%s is not a canonical name-based (version 5) UUID: %v", base, err)
	}

	tests := []struct {
		name   string
		job    string
		seq    int64
		upload time.Time
		same   bool // the same id as base
	}{
		{"same inputs", "job-42", 7, t0, true},
		{"same instant in another zone", "job-42", 7, t0.In(time.FixedZone("CET", 3600)), true},
		{"same millisecond", "job-42", 7, t0.Add(999 * time.Microsecond), true},
		{"other job", "job-43", 7, t0, false},
		{"job differs in case", "Job-42", 7, t0, false},
		{"empty job", "", 7, t0, false},
		{"other change seq", "job-42", 8, t0, false},
		{"seq zero", "job-42", 0, t0, false},
		{"negative seq", "job-42", -7, t0, false},
		{"upload one millisecond later", "job-42", 7, t0.Add(time.Millisecond), false},
		{"upload one millisecond earlier", "job-42", 7, t0.Add(-time.Millisecond), false},
		{"upload a day later", "job-42", 7, t0.AddDate(0, 0, 1), false},
		// The same characters split differently between job and seq.
		{"parts shifted", "job-4", 27, t0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SnapshotID(tt.job, tt.seq, tt.upload)
			if again := SnapshotID(tt.job, tt.seq, tt.upload); again != got {
				t.Errorf("not stable: %s, then %s", got, again)
			}
			if u, err := uuid.Parse(got); err != nil || u.Version() != 5 || u.String() != got {
				t.Errorf("%q is not a canonical version 5 UUID: %v", got, err)
			}
			if (got == base) != tt.same {
				t.Errorf("SnapshotID(%q, %d, %s) = %s; base %s; want same=%v", tt.job, tt.seq, tt.upload, got, base, tt.same)
			}
		})
	}
}

// Ids of different snapshots of one job never collide, whichever part
// differs.
func TestSnapshotIDDistinct(t *testing.T) {
	seen := map[string]string{}
	t0 := time.Date(2025, 11, 21, 10, 0, 0, 0, time.UTC)
	for _, job := range []string{"a", "a/1", "a/1/2", "b"} {
		for seq := int64(0); seq < 20; seq++ {
			for ms := range 20 {
				up := t0.Add(time.Duration(ms) * time.Millisecond)
				id := SnapshotID(job, seq, up)
				key := fmt.Sprintf("job %q seq %d upload %s", job, seq, up.Format(time.RFC3339Nano))
				if prev, dup := seen[id]; dup {
					t.Fatalf("%s: same id as %s", key, prev)
				}
				seen[id] = key
			}
		}
	}
}
