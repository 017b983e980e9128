package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// PagesPool is the pool page reads use, for tests that inspect their plans.
func (db *DB) PagesPool() *pgxpool.Pool { return db.pages }

const (
	SQLAuditPage      = sqlAuditPage
	SQLFirstAuditPage = sqlFirstAuditPage
)

// PlanPage is the connection settings of the pages pool.
var PlanPage = sqlPlanPage
