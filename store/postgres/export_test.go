package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/siemsync/siemsync/store"
)

// PagesPool is the pool page reads use, for tests that inspect their plans.
func (db *DB) PagesPool() *pgxpool.Pool { return db.pages }

const (
	SQLAuditPage      = sqlAuditPage
	SQLFirstAuditPage = sqlFirstAuditPage
)

// PlanPage is the connection settings of the pages pool.
var PlanPage = sqlPlanPage

// FinishTogether applies fs as one group, as concurrent FinishRun calls are.
func (db *DB) FinishTogether(ctx context.Context, fs []store.RunFinish) []error {
	group := make([]*pendingFinish, len(fs))
	for i, f := range fs {
		group[i] = &pendingFinish{ctx: ctx, f: f}
	}
	return db.finishTogether(ctx, group)
}

// FinishFallbacks is how many finishes were applied alone after their
// group's transaction failed.
func (db *DB) FinishFallbacks() int64 { return db.finishFallbacks.Load() }

// HoldFinishes makes FinishRun calls queue as behind a group being
// written, until release writes them.
func (db *DB) HoldFinishes() (release func()) {
	db.fin.mu.Lock()
	db.fin.writing = true
	db.fin.mu.Unlock()
	return db.finishQueued
}

// QueuedFinishes is how many finishes wait for their group to be written.
func (db *DB) QueuedFinishes() int {
	db.fin.mu.Lock()
	defer db.fin.mu.Unlock()
	return len(db.fin.queue)
}
