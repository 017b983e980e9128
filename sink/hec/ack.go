package hec

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/siemsync/siemsync/sink"
)

// waitAck polls the ack endpoint until Splunk acknowledges ackID or the
// integration's ack timeout elapses.
func (s *Sink) waitAck(ctx context.Context, ackID int64) error {
	deadline := time.Now().Add(s.ackWait)
	q := []byte(fmt.Sprintf(`{"acks":[%d]}`, ackID))
	wait := ackFirstPoll
	var lastErr error
	for {
		t := time.NewTimer(min(wait, max(time.Until(deadline), 0)))
		select {
		case <-ctx.Done():
			t.Stop()
			return &sink.Error{Class: sink.Retry, Code: -1, Msg: "stopped while waiting for Splunk's acknowledgement; the batch will be sent again", Err: ctx.Err()}
		case <-t.C:
		}
		ans, err := s.post(ctx, s.base+ackPath, q, false)
		switch {
		case err != nil:
			// The ack may still come: keep polling until the deadline.
			lastErr = err
		case ans.status/100 == 2:
			if ans.acked(ackID) {
				return nil
			}
		default:
			e := s.classifyAck(ans)
			if e.Class == sink.Config {
				return e
			}
			lastErr = e
		}
		if !time.Now().Before(deadline) {
			e := &sink.Error{Class: sink.Retry, Code: -1,
				Msg: fmt.Sprintf("batch not acknowledged by Splunk within %s; it will be sent again", s.ackWait)}
			if lastErr != nil {
				e.Msg += " (last ack query: " + s.redact(lastErr.Error()) + ")"
			}
			return e
		}
		wait = min(wait*2, ackMaxPoll)
	}
}

// classifyAck classifies a non-2xx answer of the ack endpoint.
func (s *Sink) classifyAck(ans answer) *sink.Error {
	if ans.code == 14 {
		return &sink.Error{Class: sink.Config, Status: ans.status, Code: 14,
			Msg: "ack is on for this integration but disabled on the token (code 14, ACK is disabled): turn ack off or enable indexer acknowledgement (useACK) on the token in Splunk"}
	}
	if ans.status == http.StatusNotFound {
		return &sink.Error{Class: sink.Config, Status: ans.status, Code: ans.code,
			Msg: "no HEC ack endpoint at " + s.base + ackPath + ": the server does not support indexer acknowledgement; turn ack off"}
	}
	return s.classify(ans, 0)
}
