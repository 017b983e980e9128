package siemsync

import "slices"

// SeverityAudit is the key of audit records in DefaultSeverity; the other
// keys are the job statuses.
const SeverityAudit = "audit"

// DefaultSeverity is the CEF severity (0–10) of each record type: audit
// records, and jobs by status. Both kinds of destination filter on it
// (min_severity); the syslog sink writes it in the CEF header.
var DefaultSeverity = map[string]int{
	SeverityAudit:   3,
	JobScheduled:    1,
	JobInProgress:   1,
	JobSuccessful:   1,
	JobCancelled:    4,
	JobIncomplete:   6,
	JobUnsuccessful: 8,
}

// Severities of records outside DefaultSeverity.
const (
	SeverityJobOther  = 5 // a job status siemsync does not know (validated input has none)
	SeverityHeartbeat = 1
)

// Severity is the CEF severity of ev under DefaultSeverity.
func Severity(ev *Event) int {
	switch {
	case ev.Audit != nil:
		return DefaultSeverity[SeverityAudit]
	case ev.Job != nil:
		if s, ok := DefaultSeverity[ev.Job.Status]; ok {
			return s
		}
		return SeverityJobOther
	}
	return SeverityHeartbeat
}

// Filtering reports whether the integration has any filter set.
func (in *Integration) Filtering() bool {
	return len(in.AuditEvents) > 0 || len(in.JobStatuses) > 0 || len(in.JobTypes) > 0 || in.MinSeverity > 0
}

// Keeps reports whether the integration's filters (SPEC §8.2) let ev
// through: its audit event matches one of AuditEvents, its job status is
// one of JobStatuses and its type one of JobTypes (an empty list keeps
// all), and its severity is at least MinSeverity. Heartbeats always pass.
func (in *Integration) Keeps(ev *Event) bool {
	switch {
	case ev.Audit != nil:
		if len(in.AuditEvents) > 0 && !slices.ContainsFunc(in.AuditEvents, func(p string) bool { return GlobMatch(p, ev.Audit.Event) }) {
			return false
		}
	case ev.Job != nil:
		if len(in.JobStatuses) > 0 && !slices.Contains(in.JobStatuses, ev.Job.Status) {
			return false
		}
		if len(in.JobTypes) > 0 && !slices.Contains(in.JobTypes, ev.Job.Type) {
			return false
		}
	default:
		return true
	}
	return Severity(ev) >= in.MinSeverity
}
