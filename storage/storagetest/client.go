package storagetest

import (
	"time"

	"github.com/usher-idp/usher/storage"
)

func clientTests() []test {
	return []test{
		{"RoundTripEveryField", testClientRoundTrip},
		{"CreateNeedsID", testClientNeedsID},
		{"Duplicate", testClientDuplicate},
		{"NotFound", testClientNotFound},
		{"ListOrderedByNameThenID", testClientList},
		{"UpdateEveryField", testClientUpdate},
		{"Delete", testClientDelete},
		{"WritesRaiseInstitutionVersion", testClientWritesRaiseVersion},
	}
}

// testClientWritesRaiseVersion: caches of clients compare the institution's
// version, so every client write must raise it (and a failed one must not).
func testClientWritesRaiseVersion(e *env) {
	s, inst := e.scope("opera")
	version := func() int64 {
		e.t.Helper()
		v, err := e.store.InstitutionVersion(e.ctx, inst.ID)
		must(e.t, "institution version", err)
		return v
	}
	v0 := version()
	c := fullClient("shop")
	must(e.t, "create", s.CreateClient(e.ctx, c))
	v1 := version()
	mustErr(e.t, "create again", s.CreateClient(e.ctx, fullClient("shop")), storage.ErrDuplicate)
	if v2 := version(); v1 <= v0 || v2 != v1 {
		e.t.Errorf("versions: %d before, %d after create, %d after a failed create", v0, v1, v2)
	}
	c.Name = "Renamed"
	must(e.t, "update", s.UpdateClient(e.ctx, c))
	v3 := version()
	must(e.t, "delete", s.DeleteClient(e.ctx, "shop"))
	if v4 := version(); v3 <= v1 || v4 <= v3 {
		e.t.Errorf("versions: %d after create, %d after update, %d after delete", v1, v3, v4)
	}
}

func testClientRoundTrip(e *env) {
	s, inst := e.scope("opera")
	c := fullClient("shop")
	must(e.t, "create", s.CreateClient(e.ctx, c))
	want := *fullClient("shop")
	want.InstitutionID, want.CreatedAt, want.UpdatedAt = inst.ID, e.now(), e.now()
	mustEqual(e.t, "the caller's record after create", *c, want)
	got, err := s.GetClient(e.ctx, "shop")
	must(e.t, "get", err)
	mustEqual(e.t, "get", *got, want)
	mustNormalised(e.t, "get", got)
	list, err := s.ListClients(e.ctx)
	must(e.t, "list", err)
	mustEqual(e.t, "list", list, []storage.Client{want})
}

func testClientNeedsID(e *env) {
	s, _ := e.scope("opera")
	c := fullClient("")
	if err := s.CreateClient(e.ctx, c); err == nil {
		e.t.Fatal("create without an ID: want an error, got none")
	}
	list, err := s.ListClients(e.ctx)
	mustCount(e.t, "clients after the refused create", len(list), err, 0)
}

func testClientDuplicate(e *env) {
	s, _ := e.scope("opera")
	must(e.t, "create", s.CreateClient(e.ctx, fullClient("shop")))
	mustErr(e.t, "create with a taken ID", s.CreateClient(e.ctx, fullClient("shop")), storage.ErrDuplicate)
}

func testClientNotFound(e *env) {
	s, _ := e.scope("opera")
	_, err := s.GetClient(e.ctx, "missing")
	checkErr(e.t, "get", err, storage.ErrNotFound)
	checkErr(e.t, "update", s.UpdateClient(e.ctx, fullClient("missing")), storage.ErrNotFound)
	checkErr(e.t, "delete", s.DeleteClient(e.ctx, "missing"), storage.ErrNotFound)
	list, err := s.ListClients(e.ctx)
	mustCount(e.t, "list of an empty institution", len(list), err, 0)
}

func testClientList(e *env) {
	s, _ := e.scope("opera")
	for _, c := range []struct{ id, name string }{{"2", "Shop"}, {"9", "Box office"}, {"1", "Shop"}, {"5", "Museum"}} {
		cl := fullClient(c.id)
		cl.Name = c.name
		must(e.t, "create "+c.id, s.CreateClient(e.ctx, cl))
	}
	list, err := s.ListClients(e.ctx)
	must(e.t, "list", err)
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	mustEqual(e.t, "IDs listed", ids, []string{"9", "5", "1", "2"})
}

func testClientUpdate(e *env) {
	s, _ := e.scope("opera")
	created := &storage.Client{ID: "shop", Name: "Shop", AccountKind: storage.Customer, IDTokenAlg: "RS256"}
	must(e.t, "create", s.CreateClient(e.ctx, created))
	e.clock.Advance(time.Hour)
	c := fullClient("shop")
	must(e.t, "update", s.UpdateClient(e.ctx, c))
	mustTime(e.t, "the caller's UpdatedAt", c.UpdatedAt, e.now())
	want := *fullClient("shop")
	want.InstitutionID, want.CreatedAt, want.UpdatedAt = created.InstitutionID, created.CreatedAt, e.now()
	got, err := s.GetClient(e.ctx, "shop")
	must(e.t, "get", err)
	mustEqual(e.t, "after update", *got, want)
	cleared := &storage.Client{ID: "shop", Name: "Plain", AccountKind: storage.Customer, IDTokenAlg: "RS256"}
	must(e.t, "update to defaults", s.UpdateClient(e.ctx, cleared))
	got, err = s.GetClient(e.ctx, "shop")
	must(e.t, "get", err)
	want = *cleared
	want.InstitutionID, want.CreatedAt, want.UpdatedAt = created.InstitutionID, created.CreatedAt, e.now()
	mustEqual(e.t, "after clearing every field", *got, want)
}

func testClientDelete(e *env) {
	s, _ := e.scope("opera")
	must(e.t, "create shop", s.CreateClient(e.ctx, fullClient("shop")))
	must(e.t, "create box", s.CreateClient(e.ctx, fullClient("box")))
	must(e.t, "delete shop", s.DeleteClient(e.ctx, "shop"))
	_, err := s.GetClient(e.ctx, "shop")
	checkErr(e.t, "get the deleted client", err, storage.ErrNotFound)
	checkErr(e.t, "delete it again", s.DeleteClient(e.ctx, "shop"), storage.ErrNotFound)
	_, err = s.GetClient(e.ctx, "box")
	must(e.t, "get the other client", err)
}
