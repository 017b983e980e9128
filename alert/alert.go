// Package alert tells a person when an integration stops delivering, and
// when it delivers again: one webhook POST when it has failed for its
// alert_after (its lag, the time since its last successful cycle, has
// grown past it while its cycles fail), and one when a cycle succeeds
// again. Never one per cycle: the state ("firing" or not) is kept in the
// store and moved with a compare-and-swap, so of several workers only one
// sends each alert.
//
// The syncer calls CycleFinished after every cycle; the check and the POST
// run in the background with a timeout, so a slow or broken webhook never
// delays or fails a cycle. A webhook failure is logged (with its host, never
// its URL: Slack's carry their secret in the path), shown in the
// integration's status (alert_error) and the state is put back, so the
// next cycle tries again.
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	gosync "sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/netguard"
)

// DefaultTimeout bounds one webhook POST.
const DefaultTimeout = 10 * time.Second

// Store is what the notifier needs of the store.
type Store interface {
	GetIntegration(ctx context.Context, id string, withSecrets bool) (*siemsync.Integration, error)
	SwapAlertState(ctx context.Context, id, from, to string) (bool, error)
	SetAlertError(ctx context.Context, id, msg string) error
}

// Config configures a Notifier.
type Config struct {
	Store Store
	// AllowPrivate lets webhooks reach loopback, private and link-local
	// addresses (--allow-private-destinations), as for HEC URLs.
	AllowPrivate bool
	Timeout      time.Duration // per POST; default DefaultTimeout
	Logger       zerolog.Logger
	Now          func() time.Time
}

// Notifier sends the alerts.
type Notifier struct {
	cfg    Config
	client *http.Client

	mu       gosync.Mutex
	checking map[string]bool // integrations with a check in flight
	wg       gosync.WaitGroup
}

// New returns a Notifier.
func New(cfg Config) *Notifier {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tr := &http.Transport{
		Proxy:               nil, // a proxy would dial out of netguard's reach
		DialContext:         netguard.Dialer(cfg.AllowPrivate, cfg.Timeout).DialContext,
		TLSHandshakeTimeout: cfg.Timeout,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     30 * time.Second,
	}
	return &Notifier{
		cfg: cfg,
		client: &http.Client{Transport: tr, Timeout: cfg.Timeout,
			// A redirect would take the alert (and its URL's secret) elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		checking: map[string]bool{},
	}
}

// CycleFinished checks the integration in the background. It returns at
// once; a check already in flight for the integration makes it a no-op.
func (n *Notifier) CycleFinished(id string) {
	n.mu.Lock()
	if n.checking[id] {
		n.mu.Unlock()
		return
	}
	n.checking[id] = true
	n.wg.Add(1)
	n.mu.Unlock()
	go func() {
		defer func() {
			n.mu.Lock()
			delete(n.checking, id)
			n.mu.Unlock()
			n.wg.Done()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 3*n.cfg.Timeout)
		defer cancel()
		if err := n.Check(ctx, id); err != nil {
			n.cfg.Logger.Warn().Err(err).Str("integration", id).Msg("alert check")
		}
	}()
}

// Wait waits for the checks in flight (at most their timeouts): sync
// --once and a shutting-down serve call it so an alert is not cut off.
func (n *Notifier) Wait() { n.wg.Wait() }

// Events of the payload.
const (
	EventFailing   = "failing"
	EventRecovered = "recovered"
)

// Check sends the alert the integration's state calls for, if any.
func (n *Notifier) Check(ctx context.Context, id string) error {
	in, err := n.cfg.Store.GetIntegration(ctx, id, true)
	if errors.Is(err, siemsync.ErrNotFound) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("load integration: %w", err)
	}
	st := in.Status
	failing := st.LastError != nil
	switch {
	case in.NotifyURL == "":
		if st.Alert == siemsync.AlertFiring { // webhook removed while firing
			_, err := n.cfg.Store.SwapAlertState(ctx, id, siemsync.AlertFiring, siemsync.AlertOK)
			return err
		}
		return nil
	case st.Alert == siemsync.AlertOK && failing && st.LagSeconds >= in.AlertAfter.D().Seconds():
		return n.send(ctx, in, EventFailing, siemsync.AlertOK, siemsync.AlertFiring)
	case st.Alert == siemsync.AlertFiring && !failing:
		return n.send(ctx, in, EventRecovered, siemsync.AlertFiring, siemsync.AlertOK)
	}
	return nil
}

// send claims the transition from -> to, posts the alert, and puts the
// state back when the POST fails so that the next cycle tries again.
func (n *Notifier) send(ctx context.Context, in *siemsync.Integration, event, from, to string) error {
	ok, err := n.cfg.Store.SwapAlertState(ctx, in.ID, from, to)
	if err != nil || !ok {
		return err // !ok: another worker sent it
	}
	log := n.cfg.Logger.With().Str("integration", in.ID).Str("event", event).
		Str("webhook_host", siemsync.NotifyHostOf(in.NotifyURL)).Logger()
	if perr := n.post(ctx, in.NotifyURL, payload(in, event, n.cfg.Now())); perr != nil {
		msg := fmt.Sprintf("the %s alert could not be sent to %s: %v", event, siemsync.NotifyHostOf(in.NotifyURL), perr)
		log.Warn().Err(perr).Msg("alert webhook failed; the next cycle tries again")
		if _, err := n.cfg.Store.SwapAlertState(ctx, in.ID, to, from); err != nil {
			return err
		}
		return n.cfg.Store.SetAlertError(ctx, in.ID, msg)
	}
	log.Info().Msg("alert sent")
	if in.Status.AlertError != "" {
		return n.cfg.Store.SetAlertError(ctx, in.ID, "")
	}
	return nil
}

// Payload is the JSON body of an alert: Slack's incoming webhooks (and
// Mattermost, Teams workflows, most chat tools) show Text; the other
// fields are for programs.
type Payload struct {
	Text         string     `json:"text"`
	Event        string     `json:"event"` // failing or recovered
	Integration  Subject    `json:"integration"`
	Error        string     `json:"error,omitempty"`
	LastComplete *time.Time `json:"last_complete"`
	LagSeconds   float64    `json:"lag_seconds"`
	AlertAfter   string     `json:"alert_after"`
	Time         time.Time  `json:"time"`
}

// Subject names the integration an alert is about.
type Subject struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Account string `json:"account"`
	Kind    string `json:"kind"`
}

func payload(in *siemsync.Integration, event string, now time.Time) Payload {
	p := Payload{
		Event:        event,
		Integration:  Subject{ID: in.ID, Name: in.Name, Account: in.Account, Kind: string(in.Kind)},
		LastComplete: in.Status.LastComplete,
		LagSeconds:   in.Status.LagSeconds,
		AlertAfter:   in.AlertAfter.D().String(),
		Time:         now.UTC(),
	}
	lag := (time.Duration(in.Status.LagSeconds) * time.Second).String()
	if event == EventFailing {
		p.Error = in.Status.ErrorMessage
		p.Text = fmt.Sprintf("siemsync: integration %q (%s, account %s) has not delivered for %s: %s",
			in.Name, in.Kind, in.Account, lag, in.Status.ErrorMessage)
	} else {
		p.Text = fmt.Sprintf("siemsync: integration %q (%s, account %s) delivers again; the last cycle caught up from its checkpoint",
			in.Name, in.Kind, in.Account)
	}
	return p
}

func (n *Notifier) post(ctx context.Context, target string, p Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return errors.New("the webhook URL cannot be used")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "siemsync")
	resp, err := n.client.Do(req)
	if err != nil {
		// A *url.Error quotes the URL, and the URL is a secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err
		}
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // best effort, for keep-alive
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the webhook answered HTTP %d", resp.StatusCode)
	}
	return nil
}
