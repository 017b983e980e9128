package store

import (
	"errors"
	"fmt"
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
	// Accepted holds, per source, ranges beyond the checkpoint that the
	// destination already accepted (a later request of a window answered
	// before an earlier one failed). A cycle never sends them again.
	AuditAccepted []Range
	JobsAccepted  []Range
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
	Token       int64 // fencing token of the cycle's lease; a stale one is refused with ErrFenced
	Source      string
	Checkpoint  int64   // the new checkpoint of Source: the end of the contiguous accepted prefix
	Accepted    []Range // accepted beyond Checkpoint; ranges at or below it are forgotten
	Events      int64   // events accepted
	Bytes       int64   // wire bytes accepted
	SetAside    []SetAside
}

// Check refuses a commit no backend should store: an unknown source, or an
// accepted range that ends before it starts.
func (b BatchCommit) Check() error {
	if b.Source != siemsync.SourceAudit && b.Source != siemsync.SourceJobs {
		return fmt.Errorf("commit batch: unknown source %q", b.Source)
	}
	for _, r := range b.Accepted {
		if r.Lo > r.Hi {
			return fmt.Errorf("commit batch: accepted range %d-%d ends before it starts", r.Lo, r.Hi)
		}
	}
	return nil
}

// CycleStart is what a cycle needs from the store before it reads
// records, read in one transaction with the start of its run.
type CycleStart struct {
	// Integration has its secrets opened; its status carries no warnings
	// (a cycle does not show them).
	Integration *siemsync.Integration
	Account     siemsync.Account
	Checkpoints Checkpoints
	// RunID is the run started; 0 when none was, because the integration
	// is disabled or its account's SIEM feature is off (the caller says
	// which; the checkpoints stay as they are).
	RunID int64
	// JobsPending is false when the account has no job a cycle would send
	// (none active, none changed after the jobs checkpoint): the cycle
	// skips reading jobs. Only meaningful for an integration with the
	// jobs source.
	JobsPending bool
	// FirstAudit is the first page of audit records after the audit
	// checkpoint (within the backfill), read in the same transaction when
	// BeginCycle was asked for one and the store reads it there
	// (FirstAuditRead; a store may not). It takes a round trip off every
	// cycle of a store that is across a network.
	FirstAudit     []siemsync.Audit
	FirstAuditRead bool
}

// RunFinish closes a run and updates the integration's status.
type RunFinish struct {
	RunID       int64
	Integration string
	Token       int64     // fencing token of the cycle's lease
	NextDue     time.Time // when the integration is next due; zero leaves it
	Finished    time.Time
	Err         string // "" when the cycle succeeded; else the admin-facing message
	Filtered    int64  // records the integration's filters kept from the destination (they moved the checkpoint)
	// Release gives the cycle's lease back in the same transaction (the
	// caller has stopped renewing it), saving the store a write per cycle.
	Release bool
	// Commit, when set, is the cycle's last batch commit, applied first in
	// the same transaction: a cycle that sends one batch writes twice, not
	// three times. Its fencing and checks refuse the finish too.
	Commit *BatchCommit
}

// Check refuses a finish no backend should store: a commit of another
// run, or one that BatchCommit.Check refuses.
func (f RunFinish) Check() error {
	c := f.Commit
	if c == nil {
		return nil
	}
	if c.RunID != f.RunID || c.Integration != f.Integration || c.Token != f.Token {
		return fmt.Errorf("finish run %d of %s: its batch commit is of run %d of %s (token %d, not %d)",
			f.RunID, f.Integration, c.RunID, c.Integration, c.Token, f.Token)
	}
	return c.Check()
}

// Run is one sync cycle of one integration.
type Run struct {
	ID          int64      `json:"id"`
	Integration string     `json:"integration"`
	Worker      string     `json:"worker"` // owner of the lease the cycle ran under
	Started     time.Time  `json:"started"`
	Finished    *time.Time `json:"finished"`
	Events      int64      `json:"events"`
	Bytes       int64      `json:"bytes"`
	SetAside    int64      `json:"set_aside"`
	Filtered    int64      `json:"filtered"`
	Error       string     `json:"error"`
}

// IngestResult counts what one ingest stored.
type IngestResult struct {
	Lines      int `json:"lines"`      // records read
	Stored     int `json:"stored"`     // new audit records, or job upserts that changed a job
	Duplicates int `json:"duplicates"` // audit ids already stored, or job upserts identical to the stored job
}

// PruneResult counts what one Prune deleted.
type PruneResult struct {
	Audit  int64 `json:"audit"`  // audit records deleted
	Jobs   int64 `json:"jobs"`   // ended jobs deleted
	Runs   int64 `json:"runs"`   // finished runs deleted
	Missed int64 `json:"missed"` // deleted records some integration had not delivered, counted once per integration
}

// ErrNoCipher is returned when an integration has secrets to seal or open
// but the store was opened without a Cipher.
var ErrNoCipher = errors.New("no secret key configured: open the store with a Cipher")

// Replay states.
const (
	ReplayRunning   = "running"
	ReplayDone      = "done"
	ReplayCancelled = "cancelled"
	ReplayFailed    = "failed"
)

// Replay is the replay of a window of an integration's records, sent again
// beside its live checkpoint: audit records that occurred in [Since, Until)
// up to AuditEnd (the end of the log when it started), then the jobs that
// changed in the window. The cursors are where it stands; it resumes there.
type Replay struct {
	Integration string     `json:"integration"`
	Since       time.Time  `json:"since"`
	Until       time.Time  `json:"until"`
	AuditEnd    int64      `json:"-"`
	AuditCursor int64      `json:"-"`
	JobsCursor  int64      `json:"-"`
	Total       int64      `json:"total"`
	Sent        int64      `json:"sent"`
	State       string     `json:"state"`
	Error       string     `json:"error,omitempty"`
	Started     time.Time  `json:"started"`
	Updated     time.Time  `json:"updated"`
	Finished    *time.Time `json:"finished"`
}

// ErrReplayStopped refuses the progress of a replay that is no longer
// running (cancelled): its runner stops.
var ErrReplayStopped = errors.New("the replay is no longer running")

// ReplayLease is the name of the lease under which one worker runs the
// replay of an integration.
func ReplayLease(integration string) string { return "replay:" + integration }

// ReplayStatus is a replay with its progress.
type ReplayStatus struct {
	Replay
	Percent float64 `json:"percent"`
	// Rate is events per second since the replay started; ETASeconds the
	// time left at that rate (nil until something was sent, or once ended).
	Rate       float64  `json:"rate"`
	ETASeconds *float64 `json:"eta_seconds"`
}

// Progress computes the progress figures of r at now.
func Progress(r Replay, now time.Time) ReplayStatus {
	st := ReplayStatus{Replay: r, Percent: 100}
	if r.Total > 0 {
		st.Percent = min(100, 100*float64(r.Sent)/float64(r.Total))
	}
	end := now
	if r.Finished != nil {
		end = *r.Finished
	}
	if secs := end.Sub(r.Started).Seconds(); secs > 0 {
		st.Rate = float64(r.Sent) / secs
	}
	if r.State == ReplayRunning && st.Rate > 0 {
		eta := max(0, float64(r.Total-r.Sent)/st.Rate)
		st.ETASeconds = &eta
	}
	return st
}
