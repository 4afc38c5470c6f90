package flows

import (
	"errors"
	"testing"
	"time"
)

func TestSignInTransitions(t *testing.T) {
	tests := []struct {
		from SignInState
		e    signInEvent
		to   SignInState
		ok   bool
	}{
		{Anonymous, passwordVerified, SignedIn, true},
		{Anonymous, temporaryPasswordVerified, PasswordChangePending, true},
		{Anonymous, passwordChanged, Anonymous, false},
		{PasswordChangePending, passwordChanged, SignedIn, true},
		{PasswordChangePending, passwordVerified, SignedIn, true}, // signing in again starts over
		{SignedIn, passwordChanged, SignedIn, false},
		{SignedIn, passwordVerified, SignedIn, true},
		{SignedIn, temporaryPasswordVerified, PasswordChangePending, true},
	}
	for _, tt := range tests {
		to, err := tt.from.next(tt.e, noSecondFactor)
		if to != tt.to || (err == nil) != tt.ok || (err != nil && !errors.Is(err, errWrongState)) {
			t.Errorf("%s --%s--> %s, %v; want %s, ok %v", tt.from, tt.e, to, err, tt.to, tt.ok)
		}
	}
}

// The state is kept whole: what is encoded is decoded; a state of another
// version, or none, is nobody.
func TestSignInStateEncoding(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	s := signIn{State: PasswordChangePending, Account: "acct", Deadline: at.Add(pendingStepTTL),
		ReturnTo: "/institutions/opera/oauth2/authorize?client_id=shop"}
	b, err := s.encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeSignIn(b)
	if err != nil || got.State != s.State || got.Account != s.Account || !got.Deadline.Equal(s.Deadline) ||
		got.ReturnTo != s.ReturnTo {
		t.Errorf("decode(encode(%+v)) = %+v, %v", s, got, err)
	}
	for _, data := range []string{"", `{"v":2,"state":"signed_in","account":"acct","auth_time":"2026-12-03T10:00:00Z"}`} {
		if got, err := decodeSignIn([]byte(data)); err != nil || got.current(at) != Anonymous {
			t.Errorf("decode(%q) = %+v, %v; want nobody", data, got, err)
		}
	}
	if _, err := decodeSignIn([]byte("{")); err == nil {
		t.Error("an unreadable state was read")
	}
}

// A state is what its values make it at a given time: a pending step ends
// at its deadline, a state without its account or time is nobody.
func TestSignInStateCurrent(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	s, err := signIn{}.next(temporaryPasswordVerified, noSecondFactor, "acct", at, returnTo{})
	if err != nil || s.current(at) != PasswordChangePending || s.owner() != "acct" {
		t.Fatalf("after the temporary password: %+v, %v", s, err)
	}
	if s.current(at.Add(pendingStepTTL)) != Anonymous {
		t.Error("a pending step outlived its deadline")
	}
	if _, err := s.next(passwordChanged, noSecondFactor, "acct", at.Add(pendingStepTTL), returnTo{}); !errors.Is(err, errWrongState) {
		t.Errorf("an expired step was completed: %v", err)
	}
	done, err := s.next(passwordChanged, noSecondFactor, "acct", at.Add(time.Minute), returnTo{})
	if err != nil || done.current(at.Add(time.Minute)) != SignedIn || !done.AuthTime.Equal(at.Add(time.Minute)) ||
		len(done.Methods) != 1 || done.Methods[0] != "pwd" || done.ReturnTo != "" {
		t.Errorf("after the change: %+v, %v", done, err)
	}
	for _, bad := range []signIn{{State: SignedIn, AuthTime: at}, {State: SignedIn, Account: "acct"}} {
		if bad.current(at) != Anonymous {
			t.Errorf("%+v is signed in", bad)
		}
	}
	if (signIn{State: Anonymous, Account: "acct"}).owner() != "" {
		t.Error("an anonymous session has an owner")
	}
}
