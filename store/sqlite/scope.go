package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// The destination and data-scope columns of SPEC §8 (migration 0006_destinations_filters):
// channel, the filters and heartbeat. They are written by their own
// statement in the transaction of a create or update, and read as the last
// columns of sqlSelectIntegration.
const scopeColumns = `channel, audit_events, job_statuses, job_types, heartbeat, filtered_last_cycle`

// saveScope writes in's channel, filters and heartbeat.
func saveScope(ctx context.Context, tx *sql.Tx, in *siemsync.Integration) error {
	_, err := tx.ExecContext(ctx, `UPDATE integrations SET channel = ?, audit_events = ?, job_statuses = ?, job_types = ?, heartbeat = ?
		WHERE id = ?`, in.Channel, store.JSONList(in.AuditEvents), store.JSONList(in.JobStatuses), store.JSONList(in.JobTypes), in.Heartbeat, in.ID)
	if err != nil {
		return fmt.Errorf("store filters: %w", err)
	}
	return nil
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
	in.AuditEvents = store.ReadList(r.scope.auditEvents)
	in.JobStatuses = store.ReadList(r.scope.jobStatuses)
	in.JobTypes = store.ReadList(r.scope.jobTypes)
}
