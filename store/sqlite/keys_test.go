package sqlite_test

import (
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

func TestAccountKeys(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	f.create(t, hecIntegration(acctA, "a")) // creates the account
	f.create(t, hecIntegration(acctB, "b"))

	k1 := &store.AccountKey{Account: acctA, Name: "portal", Hash: sha256.Sum256([]byte("key-1"))}
	if err := f.db.CreateAccountKey(ctx, k1); err != nil {
		t.Fatal(err)
	}
	if k1.ID == "" || !k1.CreatedAt.Equal(t0) {
		t.Fatalf("created key %+v: want an id and the store's time", k1)
	}
	dup := &store.AccountKey{Account: acctA, Name: "portal", Hash: sha256.Sum256([]byte("key-2"))}
	var fe *siemsync.FieldError
	if err := f.db.CreateAccountKey(ctx, dup); !errors.Is(err, siemsync.ErrConflict) || !errors.As(err, &fe) || fe.Field != "name" {
		t.Fatalf("same name twice: %v, want a conflict on name", err)
	}
	other := &store.AccountKey{Account: acctB, Name: "portal", Hash: sha256.Sum256([]byte("key-3"))}
	if err := f.db.CreateAccountKey(ctx, other); err != nil {
		t.Fatalf("the same name in another account: %v", err)
	}
	unknown := &store.AccountKey{Account: "00000000-0000-4000-8000-000000000000", Name: "x", Hash: sha256.Sum256([]byte("key-4"))}
	if err := f.db.CreateAccountKey(ctx, unknown); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("unknown account: %v, want ErrNotFound", err)
	}

	got, err := f.db.AccountKeyByHash(ctx, sha256.Sum256([]byte("key-1")))
	if err != nil || got.ID != k1.ID || got.Account != acctA || got.Hash != k1.Hash || got.RevokedAt != nil {
		t.Fatalf("by hash: %+v %v", got, err)
	}
	if _, err := f.db.AccountKeyByHash(ctx, sha256.Sum256([]byte("nope"))); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}

	// A revocation by another account is refused and changes nothing.
	if err := f.db.RevokeAccountKey(ctx, acctB, k1.ID); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("revoke through another account: %v", err)
	}
	f.clock.Set(t0.Add(time.Minute))
	if err := f.db.RevokeAccountKey(ctx, acctA, k1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.AccountKeyByHash(ctx, k1.Hash); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("a revoked key still authenticates: %v", err)
	}
	if err := f.db.RevokeAccountKey(ctx, acctA, k1.ID); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("revoke twice: %v", err)
	}
	// Its name is free again.
	if err := f.db.CreateAccountKey(ctx, dup); err != nil {
		t.Fatalf("name of a revoked key: %v", err)
	}
	list, err := f.db.ListAccountKeys(ctx, acctA)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != k1.ID || list[0].RevokedAt == nil || !list[0].RevokedAt.Equal(t0.Add(time.Minute)) ||
		list[1].ID != dup.ID || list[1].RevokedAt != nil {
		t.Fatalf("list A = %+v", list)
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	f.create(t, hecIntegration(acctA, "a"))
	key := &store.AccountKey{Account: acctA, Name: "portal", Hash: sha256.Sum256([]byte("key"))}
	if err := f.db.CreateAccountKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	admin := store.Session{ID: sha256.Sum256([]byte("s-admin")), Admin: "fp", Expires: t0.Add(time.Hour)}
	keyed := store.Session{ID: sha256.Sum256([]byte("s-key")), KeyID: key.ID, Expires: t0.Add(2 * time.Hour)}
	for _, s := range []store.Session{admin, keyed} {
		if err := f.db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.db.GetSession(ctx, admin.ID)
	if err != nil || got.KeyID != "" || got.Admin != "fp" || !got.Expires.Equal(admin.Expires) || got.Account != "" {
		t.Fatalf("admin session: %+v %v", got, err)
	}
	got, err = f.db.GetSession(ctx, keyed.ID)
	if err != nil || got.KeyID != key.ID || got.Account != acctA || got.KeyName != "portal" {
		t.Fatalf("key session: %+v %v", got, err)
	}
	if _, err := f.db.GetSession(ctx, sha256.Sum256([]byte("unknown"))); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}

	// Expiry: at Expires the admin session is over, the key's is not.
	f.clock.Set(admin.Expires)
	if _, err := f.db.GetSession(ctx, admin.ID); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	if _, err := f.db.GetSession(ctx, keyed.ID); err != nil {
		t.Fatalf("live session: %v", err)
	}
	// Revoking the key ends its session at once.
	if err := f.db.RevokeAccountKey(ctx, acctA, key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.GetSession(ctx, keyed.ID); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("session of a revoked key: %v", err)
	}

	// Sign out.
	s3 := store.Session{ID: sha256.Sum256([]byte("s3")), Admin: "fp", Expires: t0.Add(3 * time.Hour)}
	if err := f.db.CreateSession(ctx, s3); err != nil {
		t.Fatal(err)
	}
	if err := f.db.DeleteSession(ctx, s3.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.GetSession(ctx, s3.ID); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
	if err := f.db.DeleteSession(ctx, s3.ID); err != nil {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestSIEMFeatureOff(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	a := f.create(t, hecIntegration(acctA, "a"))
	b := f.create(t, hecIntegration(acctB, "b"))
	f.ingestAudit(t, audit(acctA, "r1", 1))
	before, err := f.db.Checkpoints(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if acc, _ := f.db.GetAccount(ctx, acctA); !acc.SIEMEnabled {
		t.Fatal("the SIEM feature is off by default")
	}
	if err := f.db.SetSIEMEnabled(ctx, acctA, false); err != nil {
		t.Fatal(err)
	}
	if acc, _ := f.db.GetAccount(ctx, acctA); acc.SIEMEnabled {
		t.Fatal("SetSIEMEnabled(false) did not stick")
	}
	if ids, _ := f.db.EnabledIntegrationIDs(ctx); !slices.Equal(ids, []string{b.ID}) {
		t.Fatalf("enabled with A off = %v, want only B's", ids)
	}
	leased, err := f.db.LeaseDue(ctx, "w1", time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(leased) != 1 || leased[0].Name != b.ID {
		t.Fatalf("LeaseDue with A off = %+v, want only B's", leased)
	}
	if after, _ := f.db.Checkpoints(ctx, a.ID); after.Audit != before.Audit || after.Jobs != before.Jobs {
		t.Fatalf("checkpoints moved: %+v -> %+v", before, after)
	}
	if got, _ := f.db.GetIntegration(ctx, a.ID, false); !got.Enabled {
		t.Fatal("switching the account off changed the integration's own toggle")
	}
	if err := f.db.SetSIEMEnabled(ctx, acctA, true); err != nil {
		t.Fatal(err)
	}
	if ids, _ := f.db.EnabledIntegrationIDs(ctx); !slices.Equal(ids, []string{a.ID, b.ID}) {
		t.Fatalf("enabled with A on again = %v", ids)
	}
	if err := f.db.SetSIEMEnabled(ctx, "00000000-0000-4000-8000-000000000000", false); !errors.Is(err, siemsync.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
}
