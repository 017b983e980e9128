package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/siemsync/siemsync"
)

// The destination and data-scope columns of SPEC §8 (migration 0006_destinations_filters):
// channel, the filters and heartbeat. They are written by their own
// statement in the transaction of a create or update, and read as the last
// columns of sqlSelectIntegration.
const scopeColumns = `channel, audit_events, job_statuses, job_types, heartbeat, filtered_last_cycle`

// saveScope writes in's channel, filters and heartbeat.
func saveScope(ctx context.Context, tx *sql.Tx, in *siemsync.Integration) error {
	_, err := tx.ExecContext(ctx, `UPDATE integrations SET channel = ?, audit_events = ?, job_statuses = ?, job_types = ?, heartbeat = ?
		WHERE id = ?`, in.Channel, jsonList(in.AuditEvents), jsonList(in.JobStatuses), jsonList(in.JobTypes), in.Heartbeat, in.ID)
	if err != nil {
		return fmt.Errorf("store filters: %w", err)
	}
	return nil
}

// jsonList stores a list as a JSON array: patterns and job types may hold
// commas, so a comma-joined list (as sources) would not do.
func jsonList(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	b, _ := json.Marshal(xs) // strings only: cannot fail
	return string(b)
}

// scopeRow is the scan target of scopeColumns.
type scopeRow struct {
	auditEvents, jobStatuses, jobTypes string
}

func (r *integrationRow) scopeDest() []any {
	in := &r.in
	return []any{&in.Channel, &r.scope.auditEvents, &r.scope.jobStatuses, &r.scope.jobTypes, &in.Heartbeat, &in.Status.Filtered}
}

func (r *integrationRow) finishScope(in *siemsync.Integration) {
	in.AuditEvents = readList(r.scope.auditEvents)
	in.JobStatuses = readList(r.scope.jobStatuses)
	in.JobTypes = readList(r.scope.jobTypes)
}

func readList(s string) []string {
	if s == "" {
		return nil
	}
	var xs []string
	if json.Unmarshal([]byte(s), &xs) != nil || len(xs) == 0 {
		return nil
	}
	return xs
}
