package admin_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/admin"
	"github.com/siemsync/siemsync/store"
)

// fakeStore is an in-memory admin.Store. It keeps secrets like the real
// store: returned only when asked for, kept on update when empty.
type fakeStore struct {
	mu       sync.Mutex
	ints     map[string]*siemsync.Integration
	accounts map[string]siemsync.Account
	runs     map[string][]store.Run
	setAside map[string][]store.SetAside
	settings map[string]string
	sessions map[[32]byte]store.Session
	err      error // when set, every method fails with it
}

var _ admin.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{
		ints: map[string]*siemsync.Integration{}, accounts: map[string]siemsync.Account{},
		runs: map[string][]store.Run{}, setAside: map[string][]store.SetAside{}, settings: map[string]string{},
	}
}

type conflict struct{ *siemsync.FieldError }

func (c *conflict) Unwrap() []error { return []error{c.FieldError, siemsync.ErrConflict} }

func (f *fakeStore) out(in *siemsync.Integration, withSecrets bool) *siemsync.Integration {
	c := *in
	c.Sources = append([]string(nil), in.Sources...)
	c.TokenSet, c.ClientKeySet = in.Token != "", in.ClientKeyPEM != ""
	if !withSecrets {
		c.Token, c.ClientKeyPEM = "", ""
	}
	return &c
}

func (f *fakeStore) ListIntegrations(_ context.Context, account string) ([]*siemsync.Integration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []*siemsync.Integration
	for _, in := range f.ints {
		if account == "" || in.Account == account {
			out = append(out, f.out(in, false))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeStore) GetIntegration(_ context.Context, id string, withSecrets bool) (*siemsync.Integration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	in, ok := f.ints[id]
	if !ok {
		return nil, fmt.Errorf("get integration %s: %w", id, siemsync.ErrNotFound)
	}
	return f.out(in, withSecrets), nil
}

func (f *fakeStore) nameTaken(in *siemsync.Integration) bool {
	for _, x := range f.ints {
		if x.ID != in.ID && x.Account == in.Account && x.Name == in.Name {
			return true
		}
	}
	return false
}

func (f *fakeStore) CreateIntegration(_ context.Context, in *siemsync.Integration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if in.ID == "" {
		in.ID = uuid.NewString()
	}
	if f.nameTaken(in) {
		return &conflict{&siemsync.FieldError{Field: "name", Msg: "an integration with this name already exists in the account"}}
	}
	if _, ok := f.accounts[in.Account]; !ok {
		f.accounts[in.Account] = siemsync.Account{ID: in.Account, Name: "Acme", SIEMEnabled: true}
	}
	c := *in
	c.CreatedAt = time.Now()
	f.ints[in.ID] = &c
	return nil
}

func (f *fakeStore) UpdateIntegration(_ context.Context, in *siemsync.Integration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	old, ok := f.ints[in.ID]
	if !ok {
		return siemsync.ErrNotFound
	}
	if f.nameTaken(in) {
		return &conflict{&siemsync.FieldError{Field: "name", Msg: "an integration with this name already exists in the account"}}
	}
	c := *in
	c.Status, c.CreatedAt, c.Account = old.Status, old.CreatedAt, old.Account
	if c.Token == "" {
		c.Token = old.Token
	}
	if c.ClientKeyPEM == "" && c.ClientCertPEM != "" {
		c.ClientKeyPEM = old.ClientKeyPEM
	}
	f.ints[in.ID] = &c
	return nil
}

func (f *fakeStore) SetEnabled(_ context.Context, id string, enabled bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	in, ok := f.ints[id]
	if !ok {
		return siemsync.ErrNotFound
	}
	in.Enabled = enabled
	return nil
}

func (f *fakeStore) DeleteIntegration(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if _, ok := f.ints[id]; !ok {
		return siemsync.ErrNotFound
	}
	delete(f.ints, id)
	return nil
}

func (f *fakeStore) ListAccounts(context.Context) ([]siemsync.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []siemsync.Account
	for _, a := range f.accounts {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *fakeStore) RecentRuns(_ context.Context, id string, n int) ([]store.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	// Newest first, like the real store.
	var out []store.Run
	for i := len(f.runs[id]) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, f.runs[id][i])
	}
	return out, nil
}

func (f *fakeStore) ListSetAside(_ context.Context, id string) ([]store.SetAside, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return append([]store.SetAside(nil), f.setAside[id]...), nil
}

func (f *fakeStore) DeleteSetAside(_ context.Context, id string, ids []int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	n := 0
	kept := f.setAside[id][:0]
	for _, sa := range f.setAside[id] {
		drop := false
		for _, x := range ids {
			drop = drop || sa.ID == x
		}
		if drop {
			n++
			continue
		}
		kept = append(kept, sa)
	}
	f.setAside[id] = kept
	return n, nil
}

func (f *fakeStore) Setting(_ context.Context, key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	v, ok := f.settings[key]
	if !ok {
		return "", fmt.Errorf("setting %s: %w", key, siemsync.ErrNotFound)
	}
	return v, nil
}

func (f *fakeStore) SetSetting(_ context.Context, key, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.settings[key] = value
	return nil
}

// token reads the stored token of an integration, for assertions.
func (f *fakeStore) token(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in, ok := f.ints[id]; ok {
		return in.Token
	}
	return ""
}

// fakeSyncer runs cycles through function fields.
type fakeSyncer struct {
	RunNowFunc func(ctx context.Context, id string) error
	RetryFunc  func(ctx context.Context, id string) (int, int, error)
}

func (s *fakeSyncer) RunNow(ctx context.Context, id string) error {
	if s.RunNowFunc == nil {
		return nil
	}
	return s.RunNowFunc(ctx, id)
}

func (s *fakeSyncer) RetrySetAside(ctx context.Context, id string) (int, int, error) {
	if s.RetryFunc == nil {
		return 0, 0, nil
	}
	return s.RetryFunc(ctx, id)
}

// fakeIngester counts NDJSON lines; a line containing "bad" is an error
// on field time of that line, and nothing is stored.
type fakeIngester struct {
	mu    sync.Mutex
	lines map[string]int // per account and source
	// gate, when set, holds every load until it is closed; running and
	// most count the loads under way.
	gate          chan struct{}
	running, most atomic.Int32
}

func (fi *fakeIngester) load(r io.Reader, key string) (store.IngestResult, error) {
	now := fi.running.Add(1)
	defer fi.running.Add(-1)
	for m := fi.most.Load(); now > m && !fi.most.CompareAndSwap(m, now); m = fi.most.Load() {
	}
	if fi.gate != nil {
		<-fi.gate
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		if strings.Contains(sc.Text(), "bad") {
			return store.IngestResult{}, &siemsync.FieldError{Line: n, Field: "time", Msg: "must be an RFC 3339 time"}
		}
	}
	if err := sc.Err(); err != nil {
		return store.IngestResult{}, fmt.Errorf("read input: %w", err)
	}
	fi.mu.Lock()
	defer fi.mu.Unlock()
	if fi.lines == nil {
		fi.lines = map[string]int{}
	}
	fi.lines[key] += n
	return store.IngestResult{Lines: n, Stored: n}, nil
}

func (fi *fakeIngester) Audit(_ context.Context, r io.Reader, account string) (store.IngestResult, error) {
	return fi.load(r, account+"/audit")
}

func (fi *fakeIngester) Jobs(_ context.Context, r io.Reader, account string) (store.IngestResult, error) {
	return fi.load(r, account+"/jobs")
}

var errBoom = errors.New("disk I/O error")

func (f *fakeStore) GetAccount(_ context.Context, id string) (siemsync.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return siemsync.Account{}, f.err
	}
	a, ok := f.accounts[id]
	if !ok {
		return a, fmt.Errorf("get account %s: %w", id, siemsync.ErrNotFound)
	}
	return a, nil
}

func (f *fakeStore) SetSIEMEnabled(_ context.Context, id string, enabled bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.accounts[id]
	if !ok {
		return siemsync.ErrNotFound
	}
	a.SIEMEnabled = enabled
	f.accounts[id] = a
	return nil
}

// The fake keeps no account keys: key tests run on the real store
// (keys_test.go); sessions it keeps in memory like the real one.

func (f *fakeStore) CreateAccountKey(context.Context, *store.AccountKey) error {
	return errors.New("fake store: account keys are tested on the real store")
}

func (f *fakeStore) ListAccountKeys(context.Context, string) ([]store.AccountKey, error) {
	return nil, nil
}

func (f *fakeStore) RevokeAccountKey(context.Context, string, string) error {
	return siemsync.ErrNotFound
}

func (f *fakeStore) AccountKeyByHash(context.Context, [32]byte) (store.AccountKey, error) {
	return store.AccountKey{}, siemsync.ErrNotFound
}

func (f *fakeStore) CreateSession(_ context.Context, s store.Session) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.sessions == nil {
		f.sessions = map[[32]byte]store.Session{}
	}
	f.sessions[s.ID] = s
	return nil
}

func (f *fakeStore) GetSession(_ context.Context, id [32]byte) (store.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return store.Session{}, f.err
	}
	s, ok := f.sessions[id]
	if !ok || !time.Now().Before(s.Expires) {
		return store.Session{}, siemsync.ErrNotFound
	}
	return s, nil
}

func (f *fakeStore) DeleteSession(_ context.Context, id [32]byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, id)
	return nil
}
