package storagetest

import (
	"time"

	"github.com/usher-idp/usher/storage"
)

func textTests() []test {
	return []test{{"NULAndInvalidUTF8", testInvalidText}}
}

// testInvalidText: text no record can hold (a NUL byte, invalid UTF-8), as
// hostile requests send it, finds nothing on reads and is refused on writes,
// the same on every backend (PostgreSQL would refuse the statement itself).
func testInvalidText(e *env) {
	s, _ := e.scope("opera")
	for _, bad := range []string{"opera\x00", "\xff\xfe", "ann\x00@x.org"} {
		_, err := e.store.GetInstitutionBySlug(e.ctx, bad)
		checkErr(e.t, "institution by slug "+quote(bad), err, storage.ErrNotFound)
		_, err = s.GetAccountByEmail(e.ctx, storage.Customer, bad)
		checkErr(e.t, "account by email "+quote(bad), err, storage.ErrNotFound)
		_, err = s.GetClient(e.ctx, bad)
		checkErr(e.t, "client "+quote(bad), err, storage.ErrNotFound)
		_, err = s.GetOAuth2(e.ctx, storage.KindAccess, bad)
		checkErr(e.t, "token "+quote(bad), err, storage.ErrNotFound)
		list, err := s.ListAccounts(e.ctx, storage.AccountFilter{Kind: storage.AccountKind(bad)})
		if err != nil || len(list) != 0 {
			e.t.Errorf("list accounts of kind %s: %v, %v", quote(bad), list, err)
		}
		err = s.CreateAccount(e.ctx, &storage.Account{Kind: storage.Customer, Email: bad, Status: storage.Active})
		checkErr(e.t, "create an account with email "+quote(bad), err, storage.ErrInvalidText)
		_, err = s.HitThrottle(e.ctx, bad, time.Minute)
		checkErr(e.t, "hit throttle "+quote(bad), err, storage.ErrInvalidText)
	}
	list, err := s.ListAccounts(e.ctx, storage.AccountFilter{})
	mustCount(e.t, "accounts after the refused writes", len(list), err, 0)
}

func quote(s string) string { return "\"" + s + "\"" }
