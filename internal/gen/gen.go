// Package gen makes realistic synthetic activity for the demo and the
// benchmark: audit records of a backup product (sign-ins, connector changes,
// restores, downloads) with metadata, and jobs that progress over time.
package gen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/siemsync/siemsync"
)

var (
	users  = []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com", "svc-backup@example.com"}
	events = []struct{ event, acl, method string }{
		{"Sign in", "", "POST"},
		{"Failed sign in", "", "POST"},
		{"Create connector", "G/ConnectorCreate", "POST"},
		{"Update connector", "G/ConnectorUpdate", "PUT"},
		{"Schedule backup", "G/BackupSchedule", "POST"},
		{"Schedule restore", "G/RestoreSchedule", "POST"},
		{"Download file", "G/DataDownload", "GET"},
		{"Preview file", "G/DataBrowse", "GET"},
		{"Create shared link", "G/ShareCreate", "POST"},
		{"Change user role", "G/UserAdmin", "PUT"},
	}
	connectorNames = []string{"Microsoft 365", "Google Workspace", "Salesforce", "Azure AD", "Dynamics 365"}
	jobTypes       = []string{"backup", "restore", "srestore", "zipdownload"}
)

// Gen produces records. It is not safe for concurrent use.
type Gen struct {
	rng        *rand.Rand
	connectors map[string][]string // account → connector ids
}

// New returns a generator seeded for reproducible output.
func New(seed uint64) *Gen {
	return &Gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), connectors: map[string][]string{}}
}

func (g *Gen) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	u, _ := uuid.FromBytes(b[:])
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	return u.String()
}

// Account returns a new account id.
func (g *Gen) Account() string { return g.uuid() }

func (g *Gen) connector(account string) string {
	cs := g.connectors[account]
	if len(cs) < 3 {
		c := g.uuid()
		g.connectors[account] = append(cs, c)
		return c
	}
	return cs[g.rng.IntN(len(cs))]
}

// AuditRecord is the NDJSON shape of an audit record.
type AuditRecord struct {
	ID        string         `json:"id"`
	Time      string         `json:"time"`
	Account   string         `json:"account"`
	Connector string         `json:"connector,omitempty"`
	ACL       string         `json:"acl,omitempty"`
	Method    string         `json:"method,omitempty"`
	User      string         `json:"user,omitempty"`
	IP        string         `json:"ip,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	Event     string         `json:"event"`
}

// Audit returns one audit record of the account that occurred at t, about
// 300–600 bytes as NDJSON.
func (g *Gen) Audit(account string, t time.Time) AuditRecord {
	e := events[g.rng.IntN(len(events))]
	r := AuditRecord{
		ID: g.uuid(), Time: t.UTC().Format(time.RFC3339Nano), Account: account,
		ACL: e.acl, Method: e.method, User: users[g.rng.IntN(len(users))],
		IP:    fmt.Sprintf("203.0.113.%d", 1+g.rng.IntN(254)),
		Event: e.event,
		Metadata: map[string]any{
			"area":       "User events",
			"allowed":    g.rng.IntN(20) != 0,
			"succeeded":  e.event != "Failed sign in",
			"user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
			"request_id": g.uuid(),
		},
	}
	if e.acl != "" {
		r.Connector = g.connector(account)
		r.Metadata["area"] = "Backup/Restore"
		r.Metadata["connector_name"] = connectorNames[g.rng.IntN(len(connectorNames))]
		r.Metadata["path"] = "/users/" + r.User + "/OneDrive/Documents/report-" + strconv.Itoa(g.rng.IntN(10000)) + ".xlsx"
	}
	return r
}

// Audits returns n audit records of one new account, a millisecond apart
// from t0, as the store keeps them (no Seq yet): for benchmarks of the
// stores and encoders that start after ingest.
func (g *Gen) Audits(n int, t0 time.Time) []siemsync.Audit {
	acc := g.Account()
	recs := make([]siemsync.Audit, n)
	for i := range recs {
		r := g.Audit(acc, t0.Add(time.Duration(i)*time.Millisecond))
		// A map of strings and bools always marshals.
		meta, _ := json.Marshal(r.Metadata)
		recs[i] = siemsync.Audit{ID: r.ID, Time: t0.Add(time.Duration(i) * time.Millisecond).UTC(), Account: r.Account,
			Connector: r.Connector, ACL: r.ACL, Method: r.Method, User: r.User, IP: r.IP, Metadata: meta, Event: r.Event}
	}
	return recs
}

// AppendAudit appends the record as one NDJSON line.
func AppendAudit(dst []byte, r AuditRecord) []byte {
	b, _ := json.Marshal(r)
	return append(append(dst, b...), '\n')
}

// JobRecord is the NDJSON shape of a job upsert.
type JobRecord struct {
	Job          string   `json:"job"`
	Account      string   `json:"account"`
	Connector    string   `json:"connector,omitempty"`
	Scheduled    *string  `json:"scheduled"`
	PlannedStart *string  `json:"planned_start"`
	StartTime    *string  `json:"start_time"`
	Paused       *string  `json:"paused"`
	EndTime      *string  `json:"end_time"`
	Description  string   `json:"description,omitempty"`
	Progress     *float64 `json:"progress"`
	Status       string   `json:"status"`
	Type         string   `json:"type,omitempty"`
	User         string   `json:"user,omitempty"`
}

// Job returns a new scheduled job of the account.
func (g *Gen) Job(account string, t time.Time) JobRecord {
	typ := jobTypes[g.rng.IntN(len(jobTypes))]
	name := connectorNames[g.rng.IntN(len(connectorNames))]
	s := t.UTC().Format(time.RFC3339)
	zero := 0.0
	return JobRecord{
		Job: g.uuid(), Account: account, Connector: g.connector(account), Scheduled: &s, PlannedStart: &s,
		Description: typ + " of " + name + " connector \"" + name + " (production)\"",
		Progress:    &zero, Status: "scheduled", Type: typ, User: users[g.rng.IntN(len(users))],
	}
}

// Advance moves a job on by one step at time t: it starts, progresses, and
// eventually ends successfully or not. It reports whether the job ended.
func (g *Gen) Advance(j *JobRecord, t time.Time) bool {
	s := t.UTC().Format(time.RFC3339)
	switch j.Status {
	case "scheduled":
		j.Status, j.StartTime = "in progress", &s
		p := 0.05
		j.Progress = &p
		return false
	case "in progress":
		p := min(1, *j.Progress+0.1+g.rng.Float64()*0.25)
		j.Progress = &p
		if p < 1 {
			return false
		}
		j.EndTime = &s
		j.Status = []string{"successful", "successful", "successful", "incomplete", "unsuccessful"}[g.rng.IntN(5)]
		return true
	}
	return true
}

// AppendJob appends the job as one NDJSON line.
func AppendJob(dst []byte, j JobRecord) []byte {
	b, _ := json.Marshal(j)
	return append(append(dst, b...), '\n')
}
