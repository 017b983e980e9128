package siemsync

import (
	"encoding/json"
	"time"
)

// Audit is one audit-log record of an account. Optional string fields are
// empty when the record does not have them; encoders write them as null.
type Audit struct {
	Seq       int64 // store sequence number, assigned at ingest, monotonic
	ID        string
	Time      time.Time // when the event occurred
	Account   string
	Connector string
	ACL       string
	Method    string
	User      string
	IP        string
	Metadata  json.RawMessage // compact JSON object, or nil
	Event     string
}

// Job statuses, as the job monitor reports them.
const (
	JobScheduled    = "scheduled"
	JobInProgress   = "in progress"
	JobSuccessful   = "successful"
	JobCancelled    = "cancelled"
	JobIncomplete   = "incomplete"
	JobUnsuccessful = "unsuccessful"
)

// JobStatuses lists every valid job status.
var JobStatuses = []string{JobScheduled, JobInProgress, JobSuccessful, JobCancelled, JobIncomplete, JobUnsuccessful}

// Job is the current state of one job of the job monitor. Zero times and a
// nil Progress mean the record does not have the value.
type Job struct {
	Seq          int64 // change sequence number: bumped by every upsert that changes the job
	Job          string
	Account      string
	Connector    string
	Scheduled    time.Time
	PlannedStart time.Time
	StartTime    time.Time
	Paused       time.Time
	EndTime      time.Time
	Description  string
	Progress     *float64
	Status       string
	Type         string
	User         string
	ChangedAt    time.Time // when the store saw the last change
}

// Active reports whether the job is still running or waiting to run: such a
// job is re-sent every cycle with its current progress.
func (j *Job) Active() bool {
	return (j.Status == JobScheduled || j.Status == JobInProgress) && j.EndTime.IsZero()
}

// Event is one record on its way to a sink: exactly one of Audit, Job and
// Heartbeat is set. Host and UploadTime are stamped by the sync cycle when
// it builds the batch.
type Event struct {
	Audit      *Audit
	Job        *Job
	Heartbeat  *Heartbeat
	Host       string
	UploadTime time.Time
}

// Heartbeat is the event that ends every cycle of an integration with
// heartbeat on (SPEC §8.3): what the cycle covered and did, so a SOC can
// alert on silence and reconcile counts.
type Heartbeat struct {
	ID          string    `json:"id"`
	Integration string    `json:"integration"`
	Account     string    `json:"account"`
	WindowStart time.Time `json:"window_start"` // end of the previous successful cycle (or creation)
	WindowEnd   time.Time `json:"window_end"`   // when this heartbeat was built
	SentAudit   int64     `json:"sent_audit"`
	SentJobs    int64     `json:"sent_jobs"`
	SetAside    int64     `json:"set_aside"`
	Filtered    int64     `json:"filtered"`
	AuditSeq    int64     `json:"checkpoint_audit"`
	JobsSeq     int64     `json:"checkpoint_jobs"`
	Worker      string    `json:"worker"`
	Version     string    `json:"version"`
}

// Seq is the store sequence number of the record behind the event (0 for a
// heartbeat, which has none).
func (e *Event) Seq() int64 {
	switch {
	case e.Audit != nil:
		return e.Audit.Seq
	case e.Job != nil:
		return e.Job.Seq
	}
	return 0
}

// ID is the stable id the SIEM can deduplicate on: the audit record id, or a
// job snapshot id derived from the job, its change sequence and the upload
// time (so each snapshot is distinct, yet a batch re-sent within a cycle
// carries the same ids).
func (e *Event) ID() string {
	if e.Audit != nil {
		return e.Audit.ID
	}
	if e.Heartbeat != nil {
		return e.Heartbeat.ID
	}
	return SnapshotID(e.Job.Job, e.Job.Seq, e.UploadTime)
}

// Account is a customer account. Host is the hostname of the environment
// where the account lives; empty means the server's configured host name.
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Host      string    `json:"host"`
	CreatedAt time.Time `json:"created_at"`
	// SIEMEnabled is the SIEM feature of the account (SPEC §7.2): when
	// false its integrations do not sync and account keys cannot add one.
	SIEMEnabled bool `json:"siem_enabled"`
}
