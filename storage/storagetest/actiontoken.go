package storagetest

import (
	"time"

	"github.com/usher-idp/usher/storage"
)

func actionTokenTests() []test {
	return []test{
		{"RoundTripEveryField", testActionTokenRoundTrip},
		{"CreateKeepsGivenIDAndCreatedAt", testActionTokenGiven},
		{"NotFound", testActionTokenNotFound},
		{"GetDoesNotConsume", testActionTokenGetKeeps},
		{"ConsumeOnce", testActionTokenConsume},
		{"Expiry", testActionTokenExpiry},
		{"NewerSupersedesOlder", testActionTokenSupersede},
		{"Invalidate", testActionTokenInvalidate},
	}
}

func testActionTokenRoundTrip(e *env) {
	s, inst := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	op := e.account(s, storage.Operator, "op@x.org")
	tok := &storage.ActionToken{
		AccountID:   a.ID,
		Purpose:     storage.PurposeInvite,
		SecretHash:  hash("secret"),
		PointOfSale: "shop",
		CreatedBy:   op.ID,
		ExpiresAt:   odd(e.clock.Now().Add(48 * time.Hour)),
	}
	must(e.t, "create", s.CreateActionToken(e.ctx, tok))
	if tok.ID == "" {
		e.t.Fatal("create: want an ID assigned, got none")
	}
	want := storage.ActionToken{
		ID: tok.ID, InstitutionID: inst.ID, AccountID: a.ID, Purpose: storage.PurposeInvite, SecretHash: hash("secret"),
		PointOfSale: "shop", CreatedBy: op.ID, CreatedAt: e.now(), ExpiresAt: norm(tok.ExpiresAt),
	}
	mustEqual(e.t, "the caller's record after create", *tok, want)
	got, err := s.GetActionToken(e.ctx, storage.PurposeInvite, hash("secret"))
	must(e.t, "get", err)
	mustEqual(e.t, "get", *got, want)
	mustNormalised(e.t, "get", got)
	e.clock.Advance(time.Minute)
	consumed, err := s.ConsumeActionToken(e.ctx, storage.PurposeInvite, hash("secret"))
	must(e.t, "consume", err)
	want.UsedAt = ptr(e.now())
	mustEqual(e.t, "consume", *consumed, want)
}

func testActionTokenGiven(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	created := odd(e.clock.Now().Add(-time.Minute))
	tok := &storage.ActionToken{ID: "tok-given", AccountID: a.ID, Purpose: storage.PurposeReset,
		SecretHash: hash("s"), CreatedAt: created, ExpiresAt: e.clock.Now().Add(time.Hour)}
	must(e.t, "create", s.CreateActionToken(e.ctx, tok))
	got, err := s.GetActionToken(e.ctx, storage.PurposeReset, hash("s"))
	must(e.t, "get", err)
	if got.ID != "tok-given" || !got.CreatedAt.Equal(norm(created)) {
		e.t.Fatalf("get: want ID tok-given created at %s, got %s created at %s", fmtTime(norm(created)), got.ID, fmtTime(got.CreatedAt))
	}
	dup := &storage.ActionToken{AccountID: a.ID, Purpose: storage.PurposeActivate, SecretHash: hash("s"), ExpiresAt: e.clock.Now().Add(time.Hour)}
	checkErr(e.t, "create with a taken secret hash", s.CreateActionToken(e.ctx, dup), storage.ErrDuplicate)
}

func testActionTokenNotFound(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	e.actionToken(s, a.ID, storage.PurposeReset, "secret", time.Hour)
	cases := []struct {
		name    string
		purpose storage.ActionPurpose
		secret  string
	}{
		{"an unknown secret", storage.PurposeReset, "forged"},
		{"the wrong purpose", storage.PurposeActivate, "secret"},
	}
	for _, c := range cases {
		_, err := s.GetActionToken(e.ctx, c.purpose, hash(c.secret))
		checkErr(e.t, "get with "+c.name, err, storage.ErrNotFound)
		_, err = s.ConsumeActionToken(e.ctx, c.purpose, hash(c.secret))
		checkErr(e.t, "consume with "+c.name, err, storage.ErrNotFound)
	}
	_, err := s.GetActionToken(e.ctx, storage.PurposeReset, hash("secret"))
	must(e.t, "get the real link after the failed attempts", err)
}

func testActionTokenGetKeeps(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	e.actionToken(s, a.ID, storage.PurposeReset, "secret", time.Hour)
	for range 3 {
		got, err := s.GetActionToken(e.ctx, storage.PurposeReset, hash("secret"))
		must(e.t, "get", err)
		if got.UsedAt != nil {
			e.t.Fatalf("get: want the link unused, got used at %s", fmtTime(*got.UsedAt))
		}
	}
	_, err := s.ConsumeActionToken(e.ctx, storage.PurposeReset, hash("secret"))
	must(e.t, "consume after gets", err)
}

func testActionTokenConsume(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	created := e.actionToken(s, a.ID, storage.PurposeReset, "secret", time.Hour)
	e.clock.Advance(time.Minute)
	tok, err := s.ConsumeActionToken(e.ctx, storage.PurposeReset, hash("secret"))
	must(e.t, "consume", err)
	if tok.ID != created.ID || tok.AccountID != a.ID || tok.UsedAt == nil || !tok.UsedAt.Equal(e.now()) {
		e.t.Fatalf("consume: want link %s of %s used at %s, got %s of %s used at %v",
			created.ID, a.ID, fmtTime(e.now()), tok.ID, tok.AccountID, tok.UsedAt)
	}
	e.clock.Advance(time.Minute)
	_, err = s.ConsumeActionToken(e.ctx, storage.PurposeReset, hash("secret"))
	mustErr(e.t, "consume again", err, storage.ErrAlreadyUsed)
	got, err := s.GetActionToken(e.ctx, storage.PurposeReset, hash("secret"))
	mustErr(e.t, "get after use", err, storage.ErrAlreadyUsed)
	if got == nil || got.ID != created.ID || got.UsedAt == nil || !got.UsedAt.Equal(e.now().Add(-time.Minute)) {
		e.t.Fatalf("get after use: want the token with its first use time, got %+v", got)
	}
}

func testActionTokenExpiry(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	created := e.actionToken(s, a.ID, storage.PurposeReset, "secret", 48*time.Hour)
	e.clock.Advance(48*time.Hour - time.Second)
	_, err := s.GetActionToken(e.ctx, storage.PurposeReset, hash("secret"))
	must(e.t, "get a second before expiry", err)
	e.clock.Advance(2 * time.Second)
	got, err := s.GetActionToken(e.ctx, storage.PurposeReset, hash("secret"))
	mustErr(e.t, "get a second after expiry", err, storage.ErrExpired)
	if got == nil || got.ID != created.ID {
		e.t.Fatalf("get after expiry: want the token with ErrExpired, got %+v", got)
	}
	_, err = s.ConsumeActionToken(e.ctx, storage.PurposeReset, hash("secret"))
	mustErr(e.t, "consume after expiry", err, storage.ErrExpired)
	got, err = s.GetActionToken(e.ctx, storage.PurposeReset, hash("secret"))
	mustErr(e.t, "get after the refused consume (still expired, not used)", err, storage.ErrExpired)
	if got.UsedAt != nil {
		e.t.Fatalf("refused consume: want the link left unused, got used at %s", fmtTime(*got.UsedAt))
	}
}

func testActionTokenSupersede(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	b := e.account(s, storage.Customer, "bob@x.org")
	e.actionToken(s, a.ID, storage.PurposeReset, "old", time.Hour)
	e.actionToken(s, a.ID, storage.PurposeActivate, "activate", time.Hour)
	e.actionToken(s, b.ID, storage.PurposeReset, "bob", time.Hour)
	e.clock.Advance(time.Minute)
	e.actionToken(s, a.ID, storage.PurposeReset, "new", time.Hour)
	old, err := s.GetActionToken(e.ctx, storage.PurposeReset, hash("old"))
	mustErr(e.t, "get the superseded link", err, storage.ErrAlreadyUsed)
	if old.UsedAt == nil || !old.UsedAt.Equal(e.now()) {
		e.t.Fatalf("superseded link: want used at %s, got %v", fmtTime(e.now()), old.UsedAt)
	}
	_, err = s.ConsumeActionToken(e.ctx, storage.PurposeReset, hash("old"))
	checkErr(e.t, "consume the superseded link", err, storage.ErrAlreadyUsed)
	for _, live := range []struct {
		p      storage.ActionPurpose
		secret string
	}{{storage.PurposeReset, "new"}, {storage.PurposeActivate, "activate"}, {storage.PurposeReset, "bob"}} {
		_, err := s.GetActionToken(e.ctx, live.p, hash(live.secret))
		checkErr(e.t, "get "+live.secret+" (not superseded)", err, nil)
	}
}

func testActionTokenInvalidate(e *env) {
	s, _ := e.scope("opera")
	a := e.account(s, storage.Customer, "ann@x.org")
	b := e.account(s, storage.Customer, "bob@x.org")
	e.actionToken(s, a.ID, storage.PurposeReset, "reset", time.Hour)
	e.actionToken(s, a.ID, storage.PurposeActivate, "activate", time.Hour)
	e.actionToken(s, a.ID, storage.PurposeInvite, "invite-used", time.Hour)
	_, err := s.ConsumeActionToken(e.ctx, storage.PurposeInvite, hash("invite-used"))
	must(e.t, "consume the invitation", err)
	e.actionToken(s, b.ID, storage.PurposeReset, "bob", time.Hour)
	n, err := s.InvalidateActionTokens(e.ctx, a.ID, storage.PurposeReset)
	mustCount(e.t, "invalidate a's reset links", n, err, 1)
	_, err = s.GetActionToken(e.ctx, storage.PurposeActivate, hash("activate"))
	must(e.t, "the activation link survives a reset invalidation", err)
	n, err = s.InvalidateActionTokens(e.ctx, a.ID, "")
	mustCount(e.t, "invalidate all of a's links (the used one is not counted)", n, err, 1)
	n, err = s.InvalidateActionTokens(e.ctx, a.ID, "")
	mustCount(e.t, "invalidate again", n, err, 0)
	for _, secret := range []string{"reset", "activate"} {
		p := storage.PurposeReset
		if secret == "activate" {
			p = storage.PurposeActivate
		}
		_, err := s.GetActionToken(e.ctx, p, hash(secret))
		checkErr(e.t, "get invalidated "+secret, err, storage.ErrAlreadyUsed)
	}
	_, err = s.GetActionToken(e.ctx, storage.PurposeReset, hash("bob"))
	must(e.t, "bob's link survives", err)
}
