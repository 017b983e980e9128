// Package store is the contract between siemsync and the databases it runs
// on. It owns the domain types that cross the boundary (checkpoints, leases,
// runs, set-aside events, batch commits) and the Backend interface that
// store/sqlite and store/postgres implement; storetest is the conformance
// suite both pass. Code outside the backends depends on small interfaces of
// its own, each a subset of Backend.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/siemsync/siemsync"
)

// Lease errors. ErrLeaseHeld wraps siemsync.ErrRunning so that callers that
// only know "a cycle of it is running" (the API's 409) keep working.
var (
	ErrLeaseHeld = leaseHeld{}
	// ErrFenced refuses a write of a cycle whose lease was taken over.
	ErrFenced = errors.New("the lease was taken over by another worker: this cycle's writes are refused")
)

type leaseHeld struct{}

func (leaseHeld) Error() string        { return "another worker holds the lease" }
func (leaseHeld) Is(target error) bool { return target == siemsync.ErrRunning }

// PruneLease is the name of the deployment-wide lease under which one
// worker prunes old records.
const PruneLease = "deployment:prune"

// Lease is the right to run cycles of one integration (or a
// deployment-wide job, by name) until Expires. Token is the fencing token:
// it grows with every new lease of the name, and every write of a cycle
// carries it so that a worker paused past its expiry cannot overwrite the
// work of the worker that took over.
type Lease struct {
	Name    string    `json:"name"` // integration id, or a deployment-wide name such as PruneLease
	Owner   string    `json:"owner"`
	Token   int64     `json:"token"`
	Expires time.Time `json:"expires"`
}

// Range is an inclusive range of store sequence numbers of one account and
// source: every record of the account with Lo <= seq <= Hi.
type Range struct {
	Lo int64 `json:"lo"`
	Hi int64 `json:"hi"`
}

// Contains reports whether seq is in r.
func (r Range) Contains(seq int64) bool { return r.Lo <= seq && seq <= r.Hi }

// Leaser takes, renews and gives back leases. Acquire fails with
// ErrLeaseHeld while an unexpired lease of the name exists, whoever holds
// it (the same owner too: one process must not run two cycles of one
// integration). Renew and Release fail with ErrFenced once the token moved
// on; a lease that expired but that nobody took since can still be renewed.
// Release keeps the token: tokens of a name never go back.
//
// A name never leased has token 0, so writes of a cycle that carry token 0
// pass until somebody takes the integration's lease.
type Leaser interface {
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (Lease, error)
	RenewLease(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	ReleaseLease(ctx context.Context, l Lease) error
	// LeaseDue leases up to limit enabled integrations whose next_due_at
	// has passed and whose lease is free or expired, oldest due first. Two
	// workers calling it at once never get the same integration. Like
	// EnabledIntegrationIDs it leaves out integrations of accounts whose
	// SIEM feature is off (accounts.siem_enabled, SPEC §7.2).
	LeaseDue(ctx context.Context, owner string, ttl time.Duration, limit int) ([]Lease, error)
	// SetNextDue sets when the integration is next due; the zero time
	// means now (a new or re-enabled integration starts within seconds).
	SetNextDue(ctx context.Context, integration string, at time.Time) error
}

// Ingester starts ingest transactions: ingest loads a whole NDJSON input
// in one, so that a bad line stores nothing of it.
type Ingester interface {
	BeginIngest(ctx context.Context) (IngestTx, error)
}

// IngestTx is one ingest transaction. It is used from one goroutine;
// Rollback after Commit does nothing, so callers can defer it.
type IngestTx interface {
	// Audit stores one audit record unless its account already has its
	// id; a stored record gets its Seq. stored is false for a duplicate.
	Audit(a *siemsync.Audit) (stored bool, err error)
	// AuditBatch stores records in order, skipping ids their account
	// already has (also earlier in recs), and returns how many it stored.
	// It need not set Seq.
	AuditBatch(recs []siemsync.Audit) (stored int, err error)
	// Job upserts a job. An upsert identical to the stored job is no
	// change (changed false, no sequence used); a change sets Seq and
	// ChangedAt.
	Job(j *siemsync.Job) (changed bool, err error)
	Commit() error
	Rollback() error
}

// Backend is everything a store offers. The rest of siemsync consumes
// subsets of it through interfaces of its own; the conformance suite and the
// cmd wiring use the whole.
type Backend interface {
	Leaser
	Ingester

	ListAccounts(ctx context.Context) ([]siemsync.Account, error)
	GetAccount(ctx context.Context, id string) (siemsync.Account, error)
	UpdateAccount(ctx context.Context, id string, name, host *string) error
	// SetSIEMEnabled switches the SIEM feature of an account (SPEC §7.2).
	// Off: EnabledIntegrationIDs (and LeaseDue) leave its integrations out,
	// and their checkpoints stay. An unknown account wraps
	// siemsync.ErrNotFound.
	SetSIEMEnabled(ctx context.Context, account string, enabled bool) error

	AccountKeys
	Sessions

	AuditPage(ctx context.Context, q AuditQuery, dst []siemsync.Audit) ([]siemsync.Audit, error)
	JobPage(ctx context.Context, q JobQuery, dst []siemsync.Job) ([]siemsync.Job, error)
	MaxAuditSeq(ctx context.Context, account string) (int64, error)
	MaxJobSeq(ctx context.Context, account string) (int64, error)

	GetIntegration(ctx context.Context, id string, withSecrets bool) (*siemsync.Integration, error)
	ListIntegrations(ctx context.Context, account string) ([]*siemsync.Integration, error)
	CreateIntegration(ctx context.Context, in *siemsync.Integration) error
	UpdateIntegration(ctx context.Context, in *siemsync.Integration) error
	SetEnabled(ctx context.Context, id string, enabled bool) error
	DeleteIntegration(ctx context.Context, id string) error
	// EnabledIntegrationIDs lists the integrations that are enabled and
	// whose account has the SIEM feature on.
	EnabledIntegrationIDs(ctx context.Context) ([]string, error)
	LearnBatchBytes(ctx context.Context, id string, n int) error
	SwapAlertState(ctx context.Context, id, from, to string) (bool, error)
	SetAlertError(ctx context.Context, id, msg string) error

	StartReplay(ctx context.Context, r *Replay) error
	GetReplay(ctx context.Context, integration string) (Replay, error)
	ReplayProgress(ctx context.Context, integration string, auditCursor, jobsCursor, sent int64) error
	FinishReplay(ctx context.Context, integration, state, msg string) error
	RunningReplays(ctx context.Context) ([]string, error)
	CountReplay(ctx context.Context, account string, since, until time.Time, auditEnd int64) (audit, jobs int64, err error)

	Checkpoints(ctx context.Context, integration string) (Checkpoints, error)
	// BeginCycle starts a cycle under lease l, in one transaction: it is
	// refused with ErrFenced unless l is the integration's current lease,
	// reads the integration (with secrets), its account and checkpoints,
	// and records the start of a run, run by l.Owner, unless the
	// integration is disabled or its account's SIEM feature is off
	// (CycleStart.RunID 0). An unknown integration wraps
	// siemsync.ErrNotFound. With page > 0 it may also read the first page
	// of at most page audit records (CycleStart.FirstAudit).
	BeginCycle(ctx context.Context, l Lease, started time.Time, page int) (CycleStart, error)
	// BeginCycles starts the cycles of leases ls (at least one) as
	// BeginCycle does each; starts[i] and errs[i] are ls[i]'s. Where the
	// backend can, it is one round trip for all. A stale lease or an
	// unknown integration is refused alone; any other error may fail
	// every start of the call, and a failed start writes nothing.
	BeginCycles(ctx context.Context, ls []Lease, started time.Time, page int) (starts []CycleStart, errs []error)
	CommitBatch(ctx context.Context, b BatchCommit) error
	FinishRun(ctx context.Context, f RunFinish) error
	RecentRuns(ctx context.Context, integration string, n int) ([]Run, error)
	ListSetAside(ctx context.Context, integration string) ([]SetAside, error)
	DeleteSetAside(ctx context.Context, integration string, ids []int64) (int, error)

	Prune(ctx context.Context, before time.Time) (PruneResult, error)

	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error

	Close() error
}

// AccountKeySize is the number of random bytes of an account key.
const AccountKeySize = 32

// AccountKey is an account API key (SPEC §7.1) as the store keeps it: the
// key itself is never stored, only its SHA-256 in Hash.
type AccountKey struct {
	ID        string     `json:"id"`
	Account   string     `json:"account"`
	Name      string     `json:"name"`
	Hash      [32]byte   `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"` // nil while the key works
}

// AccountKeys stores account API keys.
type AccountKeys interface {
	// CreateAccountKey stores k (Account, Name and Hash set by the caller)
	// and fills in ID and CreatedAt. An unknown account wraps
	// siemsync.ErrNotFound; a name that a working key of the account
	// already has is a *siemsync.FieldError on "name" that matches
	// siemsync.ErrConflict.
	CreateAccountKey(ctx context.Context, k *AccountKey) error
	// ListAccountKeys lists the keys of an account, revoked ones included,
	// oldest first.
	ListAccountKeys(ctx context.Context, account string) ([]AccountKey, error)
	// RevokeAccountKey marks the key revoked and ends every session opened
	// with it, in one transaction: from its return on, neither the key nor
	// those sessions authenticate. A key that the account does not have, or
	// that is revoked already, wraps siemsync.ErrNotFound.
	RevokeAccountKey(ctx context.Context, account, id string) error
	// AccountKeyByHash finds the working (not revoked) key whose hash is
	// hash, or wraps siemsync.ErrNotFound. Callers compare the returned
	// Hash with theirs in constant time before trusting it.
	AccountKeyByHash(ctx context.Context, hash [32]byte) (AccountKey, error)
}

// Session is a sign-in of the admin page. The store holds it so that every
// worker behind a load balancer knows it.
type Session struct {
	// ID is the SHA-256 of the secret in the session cookie; the secret
	// itself is never stored, so a copy of the store opens no session.
	ID [32]byte
	// KeyID is the account key the session was opened with; "" means the
	// admin token.
	KeyID string
	// Admin is, for an admin session, a fingerprint of the admin token it
	// was opened with, so that a new admin token ends the old sessions.
	Admin     string
	CreatedAt time.Time
	Expires   time.Time
	// Account and KeyName are filled in by GetSession for key sessions.
	Account string
	KeyName string
}

// Sessions stores page sign-ins.
type Sessions interface {
	// CreateSession stores s. It also deletes sessions that have expired.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the session with this id, or wraps
	// siemsync.ErrNotFound when there is none, it has expired (now is at or
	// after Expires), or its account key was revoked.
	GetSession(ctx context.Context, id [32]byte) (Session, error)
	// DeleteSession ends a session (sign out). An unknown id is not an
	// error.
	DeleteSession(ctx context.Context, id [32]byte) error
}

// CheckLease refuses a lease request without a name or owner, or with a
// ttl under a millisecond (the stores' clock resolution).
func CheckLease(name, owner string, ttl time.Duration) error {
	switch {
	case name == "":
		return errors.New("lease: no name given")
	case owner == "":
		return fmt.Errorf("lease %s: no owner given: set a worker id", name)
	case ttl < time.Millisecond:
		return fmt.Errorf("lease %s: the lease ttl must be at least 1ms, not %v", name, ttl)
	}
	return nil
}
