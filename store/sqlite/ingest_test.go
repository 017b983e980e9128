package sqlite_test

import (
	"testing"

	"github.com/siemsync/siemsync"
)

// A rolled back ingest gives back the job sequence it took: SQLite keeps
// job_seq in a table written in the ingest's transaction. (The conformance
// suite checks the rest of a rollback.)
func TestIngestRollbackJobSeq(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in, err := f.db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	j := job(acctA, jobID(1), siemsync.JobInProgress)
	if _, err := in.Job(&j); err != nil {
		t.Fatal(err)
	}
	if err := in.Rollback(); err != nil {
		t.Fatal(err)
	}
	j2 := job(acctA, jobID(2), siemsync.JobInProgress)
	f.ingestJobs(t, j2)
	if max, err := f.db.MaxJobSeq(t.Context(), acctA); err != nil || max != 1 {
		t.Errorf("job seq after a rolled back ingest = %d, %v, want 1", max, err)
	}
}
