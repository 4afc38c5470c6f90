package storagetest

import (
	"time"

	"github.com/usher-idp/usher/storage"
)

func institutionTests() []test {
	return []test{
		{"CreateAssignsIDVersionAndTimes", testInstitutionCreate},
		{"CreateKeepsGivenID", testInstitutionGivenID},
		{"RoundTripEveryField", testInstitutionRoundTrip},
		{"Duplicate", testInstitutionDuplicate},
		{"NotFound", testInstitutionNotFound},
		{"ListOrderedBySlug", testInstitutionList},
		{"UpdateWritesNameAndSettings", testInstitutionUpdate},
		{"UpdateStaleVersion", testInstitutionUpdateStale},
		{"Touch", testInstitutionTouch},
	}
}

// fullSettings sets every setting to a value other than its default.
func fullSettings() storage.Settings {
	return storage.Settings{
		DisplayName:          "Grand Théâtre",
		LogoURL:              "https://theatre.example/logo.svg",
		Colour:               "#1a2b3c",
		Locales:              []string{"fr", "de"},
		TwoFactor:            true,
		Registration:         false,
		ManualPassword:       true,
		TemporaryPasswordTTL: storage.Duration(45 * time.Minute),
		ResetLinkTTL:         storage.Duration(24 * time.Hour),
		ActivationLinkTTL:    storage.Duration(72 * time.Hour),
		Password:             storage.PasswordPolicy{MinLength: 14, RequireUpper: true, RequireDigit: true, RequireSpecial: true},
		Lockout:              storage.LockoutPolicy{FreeFailures: 3, LockAfter: 9, LockDuration: storage.Duration(time.Hour), AddressFailures: 50},
		Session:              storage.SessionPolicy{Lifetime: storage.Duration(12 * time.Hour), IdleTimeout: storage.Duration(time.Hour)},
		Email:                storage.EmailSender{From: "box@theatre.example", Name: "Box office", ReplyTo: "help@theatre.example"},
	}
}

func testInstitutionCreate(e *env) {
	inst := &storage.Institution{Slug: "opera", Name: "Opera", Settings: storage.DefaultSettings()}
	must(e.t, "create", e.store.CreateInstitution(e.ctx, inst))
	if inst.ID == "" {
		e.t.Fatal("create: want an ID assigned, got none")
	}
	if inst.Version != 1 {
		e.t.Errorf("create: want version 1, got %d", inst.Version)
	}
	mustTime(e.t, "CreatedAt", inst.CreatedAt, e.now())
	mustTime(e.t, "UpdatedAt", inst.UpdatedAt, e.now())
	other := e.institution("ballet")
	if other.ID == inst.ID {
		e.t.Fatalf("two institutions got the same ID %q", inst.ID)
	}
}

func testInstitutionGivenID(e *env) {
	inst := &storage.Institution{ID: "inst-given", Slug: "opera", Name: "Opera"}
	must(e.t, "create", e.store.CreateInstitution(e.ctx, inst))
	got, err := e.store.GetInstitution(e.ctx, "inst-given")
	must(e.t, "get", err)
	if got.Slug != "opera" {
		e.t.Fatalf("get: want slug opera, got %q", got.Slug)
	}
}

func testInstitutionRoundTrip(e *env) {
	inst := &storage.Institution{Slug: "opera", Name: "Opéra de Lausanne", Settings: fullSettings()}
	must(e.t, "create", e.store.CreateInstitution(e.ctx, inst))
	want := *inst
	byID, err := e.store.GetInstitution(e.ctx, inst.ID)
	must(e.t, "get", err)
	mustEqual(e.t, "get", *byID, want)
	mustNormalised(e.t, "get", byID)
	bySlug, err := e.store.GetInstitutionBySlug(e.ctx, "opera")
	must(e.t, "get by slug", err)
	mustEqual(e.t, "get by slug", *bySlug, want)
	list, err := e.store.ListInstitutions(e.ctx)
	must(e.t, "list", err)
	mustEqual(e.t, "list", list, []storage.Institution{want})
}

func testInstitutionDuplicate(e *env) {
	first := e.institution("opera")
	err := e.store.CreateInstitution(e.ctx, &storage.Institution{Slug: "opera", Name: "Again"})
	mustErr(e.t, "same slug", err, storage.ErrDuplicate)
	err = e.store.CreateInstitution(e.ctx, &storage.Institution{ID: first.ID, Slug: "other", Name: "Same ID"})
	mustErr(e.t, "same ID", err, storage.ErrDuplicate)
}

func testInstitutionNotFound(e *env) {
	e.institution("opera")
	_, err := e.store.GetInstitution(e.ctx, "missing")
	checkErr(e.t, "get", err, storage.ErrNotFound)
	_, err = e.store.GetInstitutionBySlug(e.ctx, "missing")
	checkErr(e.t, "get by slug", err, storage.ErrNotFound)
	err = e.store.UpdateInstitution(e.ctx, &storage.Institution{ID: "missing", Slug: "missing", Version: 1})
	checkErr(e.t, "update", err, storage.ErrNotFound)
	checkErr(e.t, "touch", e.store.TouchInstitution(e.ctx, "missing"), storage.ErrNotFound)
	_, err = e.store.InstitutionVersion(e.ctx, "missing")
	checkErr(e.t, "version", err, storage.ErrNotFound)
}

func testInstitutionList(e *env) {
	list, err := e.store.ListInstitutions(e.ctx)
	mustCount(e.t, "list of an empty store", len(list), err, 0)
	for _, slug := range []string{"zoo", "abbey", "museum"} {
		e.institution(slug)
	}
	list, err = e.store.ListInstitutions(e.ctx)
	must(e.t, "list", err)
	var slugs []string
	for _, inst := range list {
		slugs = append(slugs, inst.Slug)
	}
	mustEqual(e.t, "slugs listed", slugs, []string{"abbey", "museum", "zoo"})
}

func testInstitutionUpdate(e *env) {
	inst := e.institution("opera")
	created := *inst
	e.clock.Advance(time.Minute)
	inst.Name, inst.Settings, inst.Slug = "Renamed", fullSettings(), "ignored-slug"
	must(e.t, "update", e.store.UpdateInstitution(e.ctx, inst))
	if inst.Version != 2 {
		e.t.Errorf("update: want the caller's version raised to 2, got %d", inst.Version)
	}
	mustTime(e.t, "UpdatedAt after update", inst.UpdatedAt, e.now())
	got, err := e.store.GetInstitution(e.ctx, inst.ID)
	must(e.t, "get", err)
	want := created
	want.Name, want.Settings, want.Version, want.UpdatedAt = "Renamed", fullSettings(), 2, e.now()
	mustEqual(e.t, "after update (the slug is not written)", *got, want)
}

func testInstitutionUpdateStale(e *env) {
	inst := e.institution("opera")
	stale := *inst
	inst.Name = "First"
	must(e.t, "first update", e.store.UpdateInstitution(e.ctx, inst))
	stale.Name = "Second"
	mustErr(e.t, "update from a stale version", e.store.UpdateInstitution(e.ctx, &stale), storage.ErrConflict)
	got, err := e.store.GetInstitution(e.ctx, inst.ID)
	must(e.t, "get", err)
	if got.Name != "First" || got.Version != 2 {
		e.t.Fatalf("after the refused update: want name First version 2, got %q version %d", got.Name, got.Version)
	}
}

func testInstitutionTouch(e *env) {
	inst := e.institution("opera")
	v, err := e.store.InstitutionVersion(e.ctx, inst.ID)
	mustCount(e.t, "version after create", int(v), err, 1)
	e.clock.Advance(time.Second)
	must(e.t, "touch", e.store.TouchInstitution(e.ctx, inst.ID))
	v, err = e.store.InstitutionVersion(e.ctx, inst.ID)
	mustCount(e.t, "version after touch", int(v), err, 2)
	got, err := e.store.GetInstitution(e.ctx, inst.ID)
	must(e.t, "get", err)
	want := *inst
	want.Version, want.UpdatedAt = 2, e.now()
	mustEqual(e.t, "after touch", *got, want)
	mustErr(e.t, "update from the version before the touch", e.store.UpdateInstitution(e.ctx, inst), storage.ErrConflict)
}
