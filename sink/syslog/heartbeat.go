package syslog

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/siemsync/siemsync"
)

// heartbeatRecord is the CEF form of a heartbeat (signature id 300): the
// counts in cn1–cn3 and the message, the window in start/end, and the whole
// heartbeat as JSON in cs5 for searches that want every field.
func (e *encoder) heartbeatRecord(ev *siemsync.Event) record {
	h := ev.Heartbeat
	body, _ := json.Marshal(h) // plain struct of strings, numbers and times: cannot fail
	msg := fmt.Sprintf("siemsync heartbeat: sent %d audit and %d job events, %d set aside, %d filtered; checkpoints audit %d, jobs %d; worker %s, siemsync %s",
		h.SentAudit, h.SentJobs, h.SetAside, h.Filtered, h.AuditSeq, h.JobsSeq, h.Worker, h.Version)
	return record{
		msgID: "heartbeat", ts: h.WindowEnd, host: e.host(ev),
		sig: SigHeartbeat, name: "siemsync heartbeat", severity: siemsync.SeverityHeartbeat,
		ext: []extField{
			{key: "rt", val: epochMillis(h.WindowEnd)},
			{key: "externalId", val: h.ID, limit: LimitOther},
			{key: "start", val: epochMillis(h.WindowStart)},
			{key: "end", val: epochMillis(h.WindowEnd)},
			{key: "msg", val: msg, limit: LimitMsg, shrink: 2},
			{key: "cn1", val: strconv.FormatInt(h.SentAudit, 10), labelKey: "cn1Label", label: "audit events sent"},
			{key: "cn2", val: strconv.FormatInt(h.SentJobs, 10), labelKey: "cn2Label", label: "job events sent"},
			{key: "cn3", val: strconv.FormatInt(h.Filtered, 10), labelKey: "cn3Label", label: "filtered"},
			{key: "cs1", val: h.Account, labelKey: "cs1Label", label: "account", limit: LimitCustom, shrink: 3},
			{key: "cs4", val: h.Worker, labelKey: "cs4Label", label: "worker", limit: LimitCustom, shrink: 4},
			{key: "cs5", val: string(body), labelKey: "cs5Label", label: "heartbeat", limit: LimitCustom, shrink: 1},
			{key: "cs6", val: h.Integration, labelKey: "cs6Label", label: "integration", limit: LimitCustom, shrink: 5},
		},
	}
}
