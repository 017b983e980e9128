package store

import (
	"time"

	"github.com/siemsync/siemsync"
)

// Cipher seals and opens secrets (HEC tokens, client keys) so that they are
// stored encrypted. internal/secret provides the AES-GCM implementation.
type Cipher interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(ciphertext []byte) ([]byte, error)
}

// Checkpoints is where an integration stands in each data source.
type Checkpoints struct {
	Audit int64 // last audit sequence the destination accepted
	Jobs  int64 // last job change sequence the destination accepted
	// Backfill: audit records with Seq <= BackfillUntil are sent only when
	// they occurred at or after BackfillSince. Zero BackfillSince: no filter.
	BackfillSince time.Time
	BackfillUntil int64
}

// AuditQuery selects one page of an account's audit records, in sequence order.
type AuditQuery struct {
	Account       string
	After         int64 // sequence cursor: records with Seq > After
	Limit         int
	BackfillSince time.Time // see Checkpoints
	BackfillUntil int64
}

// JobQuery selects one page of job snapshots of an account: jobs whose
// change sequence is > Checkpoint, plus jobs still active whatever their
// sequence, restricted to Seq > After (the page cursor), in Seq order.
type JobQuery struct {
	Account    string
	Checkpoint int64
	After      int64
	Limit      int
}

// SetAside is an event the destination rejected, kept for the admin to
// inspect, retry or drop.
type SetAside struct {
	ID          int64     `json:"id"`
	Integration string    `json:"integration"`
	Source      string    `json:"source"` // audit or jobs
	Seq         int64     `json:"seq"`
	EventID     string    `json:"event_id"`
	Reason      string    `json:"reason"`
	Body        []byte    `json:"-"` // the event's wire bytes as they were sent
	CreatedAt   time.Time `json:"created_at"`
}

// BatchCommit records one accepted batch: the checkpoint of Source moves to
// Checkpoint, the run's counters grow, and the set-aside events are stored,
// all in one transaction.
type BatchCommit struct {
	RunID       int64
	Integration string
	Source      string
	Checkpoint  int64
	Events      int64 // events accepted
	Bytes       int64 // wire bytes accepted
	SetAside    []SetAside
}

// RunFinish closes a run and updates the integration's status.
type RunFinish struct {
	RunID       int64
	Integration string
	Finished    time.Time
	Err         string // "" when the cycle succeeded; else the admin-facing message
}

// Run is one sync cycle of one integration.
type Run struct {
	ID          int64      `json:"id"`
	Integration string     `json:"integration"`
	Started     time.Time  `json:"started"`
	Finished    *time.Time `json:"finished"`
	Events      int64      `json:"events"`
	Bytes       int64      `json:"bytes"`
	SetAside    int64      `json:"set_aside"`
	Error       string     `json:"error"`
}

// IngestResult counts what one ingest stored.
type IngestResult struct {
	Lines      int `json:"lines"`      // records read
	Stored     int `json:"stored"`     // new audit records, or job upserts that changed a job
	Duplicates int `json:"duplicates"` // audit ids already stored, or job upserts identical to the stored job
}

var _ = siemsync.Audit{}
