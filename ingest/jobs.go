package ingest

import (
	"slices"
	"strings"
	"time"

	"github.com/siemsync/siemsync"
)

const jobFields = "job, account, connector, scheduled, planned_start, start_time, paused, end_time, description, progress, status, type, user"

// Bits of parser.seen for job fields.
const (
	jJob uint32 = 1 << iota
	jAccount
	jConnector
	jScheduled
	jPlannedStart
	jStartTime
	jPaused
	jEndTime
	jDescription
	jProgress
	jStatus
	jType
	jUser
)

// job parses and checks one line into j (all of whose fields it sets).
func (p *parser) job(line []byte, j *siemsync.Job) error {
	*j = siemsync.Job{}
	if err := p.start(line); err != nil {
		return err
	}
	if err := p.lx.object(func(key []byte) error { return p.jobField(key, j) }); err != nil {
		return err
	}
	switch {
	case j.Job == "":
		return fieldErr("job", "is required: the job's UUID")
	case j.Account == "" && p.account == "":
		return fieldErr("account", "is required: the UUID of the account the job belongs to")
	case j.Status == "":
		return fieldErr("status", "is required: one of %s", strings.Join(siemsync.JobStatuses, ", "))
	}
	if j.Account == "" {
		j.Account = p.account
	}
	return nil
}

func (p *parser) jobField(key []byte, j *siemsync.Job) error {
	var (
		bit uint32
		str *string
		tm  *time.Time
	)
	switch string(key) {
	case "job":
		if err := p.once(jJob, "job"); err != nil {
			return err
		}
		var err error
		j.Job, err = p.uuidField("job")
		return err
	case "account":
		if err := p.once(jAccount, "account"); err != nil {
			return err
		}
		var err error
		j.Account, err = p.accountField()
		return err
	case "connector":
		if err := p.once(jConnector, "connector"); err != nil {
			return err
		}
		var err error
		j.Connector, err = p.uuidField("connector")
		return err
	case "progress":
		if err := p.once(jProgress, "progress"); err != nil {
			return err
		}
		return p.progress(j)
	case "status":
		if err := p.once(jStatus, "status"); err != nil {
			return err
		}
		b, err := p.optString("status")
		if err != nil || len(b) == 0 {
			return err
		}
		i := slices.Index(siemsync.JobStatuses, string(b))
		if i < 0 {
			return fieldErr("status", "must be one of %s, not %s", strings.Join(siemsync.JobStatuses, ", "), quote(b))
		}
		j.Status = siemsync.JobStatuses[i]
		return nil
	case "scheduled":
		bit, tm = jScheduled, &j.Scheduled
	case "planned_start":
		bit, tm = jPlannedStart, &j.PlannedStart
	case "start_time":
		bit, tm = jStartTime, &j.StartTime
	case "paused":
		bit, tm = jPaused, &j.Paused
	case "end_time":
		bit, tm = jEndTime, &j.EndTime
	case "description":
		bit, str = jDescription, &j.Description
	case "type":
		bit, str = jType, &j.Type
	case "user":
		bit, str = jUser, &j.User
	default:
		return unknownField(key, "a job record", jobFields)
	}
	name := string(key)
	if err := p.once(bit, name); err != nil {
		return err
	}
	if tm != nil {
		t, err := p.timeField(name)
		*tm = t.Truncate(time.Millisecond)
		return err
	}
	b, err := p.optString(name)
	if err != nil || len(b) == 0 {
		return err
	}
	*str = p.str(b)
	return nil
}

// progress reads a number in [0, 1], or null.
func (p *parser) progress(j *siemsync.Job) error {
	if isNull, err := p.lx.null(); isNull || err != nil {
		return err
	}
	c := p.lx.peek()
	if c != '-' && (c < '0' || c > '9') {
		return p.typeErr("progress", "must be a number from 0 to 1")
	}
	start := p.lx.i
	f, err := p.lx.number()
	if err != nil {
		return err
	}
	if f < 0 || f > 1 {
		return fieldErr("progress", "must be a number from 0 to 1 (0 not started, 1 complete), not %s", p.lx.b[start:p.lx.i])
	}
	j.Progress = &f
	return nil
}
