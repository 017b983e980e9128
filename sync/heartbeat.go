package sync

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/sink"
)

// heartbeatNS derives heartbeat ids from integration and run.
var heartbeatNS = uuid.MustParse("c8f1d7a2-5b3e-4f60-9a1c-2e4d6b8f0a13")

// heartbeat sends the event that ends every cycle of an integration with
// heartbeat on (SPEC §8.3): the window since the last successful cycle,
// what this cycle sent, set aside and filtered, and where the checkpoints
// now stand. It is not a record of the store and moves no checkpoint.
func (c *cycle) heartbeat(ctx context.Context) error {
	cps, err := c.s.cfg.Store.Checkpoints(ctx, c.in.ID)
	if err != nil {
		return fmt.Errorf("heartbeat: read checkpoints: %w", err)
	}
	now := c.s.cfg.Now()
	start := c.in.CreatedAt
	if lc := c.in.Status.LastComplete; lc != nil {
		start = *lc
	}
	h := &siemsync.Heartbeat{
		ID:          uuid.NewSHA1(heartbeatNS, []byte(c.in.ID+"/"+strconv.FormatInt(c.runID, 10))).String(),
		Integration: c.in.ID, Account: c.in.Account,
		WindowStart: start.UTC(), WindowEnd: now.UTC(),
		SentAudit: c.res.Audit, SentJobs: c.res.Jobs, SetAside: c.res.SetAside, Filtered: c.filtered.Load(),
		AuditSeq: cps.Audit, JobsSeq: cps.Jobs,
		Worker: c.s.cfg.Owner, Version: siemsync.Version(),
	}
	body := c.sink.Append(nil, &siemsync.Event{Heartbeat: h, Host: c.host, UploadTime: now})
	if err := c.sendOne(ctx, body); err != nil {
		return fmt.Errorf("send heartbeat: %w", err)
	}
	c.res.Heartbeats++
	return nil
}

// sendOne sends a one-event body, retrying transient failures within
// what is left of the cycle's retry budget.
func (c *cycle) sendOne(ctx context.Context, body []byte) error {
	for {
		err := c.sink.Send(ctx, body, 1)
		if err == nil || sink.ClassOf(err) != sink.Retry || ctx.Err() != nil {
			return err
		}
		var se *sink.Error
		errors.As(err, &se)
		if err := c.retry.wait(ctx, c.s.cfg, err, se); err != nil {
			return err
		}
	}
}
