package storetest

import (
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// Account keys (SPEC §7.1): created for a known account, names unique among
// working keys, found by hash only while not revoked, revoked per account.
func testAccountKeys(t *testing.T, f *fixture) {
	ctx := t.Context()
	f.create(HECIntegration(acctA, "a")) // creates the accounts
	f.create(HECIntegration(acctB, "b"))
	before := time.Now().Add(-time.Second)

	k1 := &store.AccountKey{Account: acctA, Name: "portal", Hash: sha256.Sum256([]byte("key-1"))}
	if err := f.b.CreateAccountKey(ctx, k1); err != nil {
		t.Fatal(err)
	}
	if k1.ID == "" || k1.CreatedAt.Before(before) || k1.RevokedAt != nil {
		t.Fatalf("created key %+v: want an id and the store's time", k1)
	}
	dup := &store.AccountKey{Account: acctA, Name: "portal", Hash: sha256.Sum256([]byte("key-2"))}
	var fe *siemsync.FieldError
	if err := f.b.CreateAccountKey(ctx, dup); !errors.Is(err, siemsync.ErrConflict) || !errors.As(err, &fe) || fe.Field != "name" {
		t.Fatalf("same name twice: %v, want a conflict on name", err)
	}
	other := &store.AccountKey{Account: acctB, Name: "portal", Hash: sha256.Sum256([]byte("key-3"))}
	if err := f.b.CreateAccountKey(ctx, other); err != nil {
		t.Fatalf("the same name in another account: %v", err)
	}
	stray := &store.AccountKey{Account: unknown, Name: "x", Hash: sha256.Sum256([]byte("key-4"))}
	if err := f.b.CreateAccountKey(ctx, stray); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("unknown account: %v, want ErrNotFound", err)
	}

	got, err := f.b.AccountKeyByHash(ctx, sha256.Sum256([]byte("key-1")))
	if err != nil || got.ID != k1.ID || got.Account != acctA || got.Name != "portal" || got.Hash != k1.Hash || got.RevokedAt != nil {
		t.Fatalf("by hash: %+v %v", got, err)
	}
	if _, err := f.b.AccountKeyByHash(ctx, sha256.Sum256([]byte("nope"))); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}

	// A revocation through another account is refused and changes nothing.
	if err := f.b.RevokeAccountKey(ctx, acctB, k1.ID); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("revoke through another account: %v", err)
	}
	if _, err := f.b.AccountKeyByHash(ctx, k1.Hash); err != nil {
		t.Fatalf("the key after a refused revocation: %v", err)
	}
	if err := f.b.RevokeAccountKey(ctx, acctA, k1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.AccountKeyByHash(ctx, k1.Hash); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("a revoked key still authenticates: %v", err)
	}
	if err := f.b.RevokeAccountKey(ctx, acctA, k1.ID); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("revoke twice: %v", err)
	}
	// Its name is free again. Keys are listed oldest first by their
	// creation time, which the stores keep in milliseconds: the new key is
	// made a millisecond apart so that the order is defined.
	time.Sleep(2 * time.Millisecond)
	if err := f.b.CreateAccountKey(ctx, dup); err != nil {
		t.Fatalf("name of a revoked key: %v", err)
	}
	list, err := f.b.ListAccountKeys(ctx, acctA)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != k1.ID || list[0].RevokedAt == nil || list[0].RevokedAt.Before(k1.CreatedAt) ||
		list[1].ID != dup.ID || list[1].RevokedAt != nil {
		t.Fatalf("keys of A = %+v", list)
	}
	if list, _ := f.b.ListAccountKeys(ctx, acctB); len(list) != 1 || list[0].ID != other.ID {
		t.Fatalf("keys of B = %+v", list)
	}
}

// Sessions: live until Expires, gone at sign-out, and a key's sessions end
// with its revocation.
func testSessions(t *testing.T, f *fixture) {
	ctx := t.Context()
	f.create(HECIntegration(acctA, "a"))
	key := &store.AccountKey{Account: acctA, Name: "portal", Hash: sha256.Sum256([]byte("key"))}
	if err := f.b.CreateAccountKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	admin := store.Session{ID: sha256.Sum256([]byte("s-admin")), Admin: "fp", Expires: now.Add(time.Hour)}
	keyed := store.Session{ID: sha256.Sum256([]byte("s-key")), KeyID: key.ID, Expires: now.Add(2 * time.Hour)}
	expired := store.Session{ID: sha256.Sum256([]byte("s-old")), Admin: "fp", Expires: now.Add(-time.Second)}
	for _, s := range []store.Session{admin, keyed, expired} {
		if err := f.b.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.b.GetSession(ctx, admin.ID)
	if err != nil || got.KeyID != "" || got.Admin != "fp" || !got.Expires.Equal(admin.Expires) || got.Account != "" {
		t.Fatalf("admin session: %+v %v", got, err)
	}
	got, err = f.b.GetSession(ctx, keyed.ID)
	if err != nil || got.KeyID != key.ID || got.Account != acctA || got.KeyName != "portal" {
		t.Fatalf("key session: %+v %v", got, err)
	}
	for name, id := range map[string][32]byte{"unknown": sha256.Sum256([]byte("unknown")), "expired": expired.ID} {
		if _, err := f.b.GetSession(ctx, id); !errors.Is(err, siemsync.ErrNotFound) {
			t.Fatalf("%s session: %v, want ErrNotFound", name, err)
		}
	}
	if err := f.b.RevokeAccountKey(ctx, acctA, key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.GetSession(ctx, keyed.ID); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("session of a revoked key: %v", err)
	}
	if err := f.b.DeleteSession(ctx, admin.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.GetSession(ctx, admin.ID); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
	if err := f.b.DeleteSession(ctx, admin.ID); err != nil {
		t.Fatalf("delete twice: %v", err)
	}
}

// The SIEM feature per account (SPEC §7.2): off leaves the account's
// integrations out of due and enabled work and keeps their checkpoints.
func testSIEMFeature(t *testing.T, f *fixture) {
	ctx := t.Context()
	a := f.create(HECIntegration(acctA, "a"))
	b := f.create(HECIntegration(acctB, "b"))
	f.ingestAudit(audit(acctA, "r1", 1))
	before := f.checkpoints(a.ID)
	if acc, _ := f.b.GetAccount(ctx, acctA); !acc.SIEMEnabled {
		t.Fatal("the SIEM feature is off by default")
	}
	if err := f.b.SetSIEMEnabled(ctx, acctA, false); err != nil {
		t.Fatal(err)
	}
	if acc, _ := f.b.GetAccount(ctx, acctA); acc.SIEMEnabled {
		t.Fatal("SetSIEMEnabled(false) did not stick")
	}
	if ids, _ := f.b.EnabledIntegrationIDs(ctx); !slices.Equal(ids, []string{b.ID}) {
		t.Fatalf("enabled with A off = %v, want only B's", ids)
	}
	leased, err := f.b.LeaseDue(ctx, "w1", time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(leased) != 1 || leased[0].Name != b.ID {
		t.Fatalf("LeaseDue with A off = %+v, want only B's", leased)
	}
	if after := f.checkpoints(a.ID); after.Audit != before.Audit || after.Jobs != before.Jobs {
		t.Fatalf("checkpoints moved: %+v -> %+v", before, after)
	}
	if !f.get(a.ID).Enabled {
		t.Fatal("switching the account off changed the integration's own toggle")
	}
	if err := f.b.SetSIEMEnabled(ctx, acctA, true); err != nil {
		t.Fatal(err)
	}
	if ids, _ := f.b.EnabledIntegrationIDs(ctx); !slices.Contains(ids, a.ID) {
		t.Fatalf("enabled with A on again = %v", ids)
	}
	if leased, _ := f.b.LeaseDue(ctx, "w1", time.Minute, 10); len(leased) != 1 || leased[0].Name != a.ID {
		t.Fatalf("LeaseDue with A on again = %+v, want A's at once", leased)
	}
	if err := f.b.SetSIEMEnabled(ctx, unknown, false); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
}
