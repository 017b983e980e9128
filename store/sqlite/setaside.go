package sqlite

import (
	"context"
	"database/sql"
	"github.com/siemsync/siemsync/store"
)

// ListSetAside returns the integration's set-aside events with their
// bodies, oldest first.
func (db *DB) ListSetAside(ctx context.Context, integration string) ([]store.SetAside, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, source, seq, event_id, reason, body, created_at
		FROM set_aside WHERE integration = ? ORDER BY id`, integration)
	if err != nil {
		return nil, db.fail("list set-aside events of "+integration, err)
	}
	defer rows.Close()
	var out []store.SetAside
	for rows.Next() {
		s := store.SetAside{Integration: integration}
		var created int64
		if err := rows.Scan(&s.ID, &s.Source, &s.Seq, &s.EventID, &s.Reason, &s.Body, &created); err != nil {
			return nil, db.fail("list set-aside events of "+integration, err)
		}
		s.CreatedAt = fromMS(created)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("list set-aside events of "+integration, err)
	}
	return out, nil
}

// DeleteSetAside deletes set-aside events of the integration by id (after
// the admin retried or dropped them) and returns how many it deleted. Ids of
// other integrations are ignored.
func (db *DB) DeleteSetAside(ctx context.Context, integration string, ids []int64) (int, error) {
	var n int
	err := db.inTx(ctx, "delete set-aside events of "+integration, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `DELETE FROM set_aside WHERE integration = ? AND id = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, id := range ids {
			res, err := st.ExecContext(ctx, integration, id)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
