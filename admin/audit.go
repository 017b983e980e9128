package admin

import (
	"context"
	"net"
	"net/http"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/audittrail"
)

// record puts a change to an account's integrations or keys in that
// account's audit trail (SPEC §7.3): who (admin or key:{name}), from where
// (the client address), what. The change is made already; a failure to
// record it is logged as an error, not turned into a failed request.
func (s *Server) record(r *http.Request, c audittrail.Change) {
	if s.trail == nil {
		return
	}
	a := audittrail.Actor{User: who(r).user(), Method: r.Method}
	if ip := clientAddr(r, s.cfg.TrustedProxies); net.ParseIP(ip) != nil {
		a.IP = ip
	}
	if err := s.trail.Record(context.WithoutCancel(r.Context()), a, c); err != nil {
		s.log.Error().Err(err).Str("account", c.Account).Str("event", c.Event).
			Msg("audit trail: the change was made but could not be recorded")
	}
}

// recordIntegration records a change of one integration.
func (s *Server) recordIntegration(r *http.Request, event string, in *siemsync.Integration, extra map[string]any) {
	s.record(r, audittrail.Change{Account: in.Account, Event: event, Integration: in, Extra: extra})
}

// toggleEvent names an enable or a disable.
func toggleEvent(enabled bool) string {
	if enabled {
		return audittrail.IntegrationEnabled
	}
	return audittrail.IntegrationDisabled
}
