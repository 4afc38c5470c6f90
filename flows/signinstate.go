package flows

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SignInState is where a browser is in signing in: the one state enum of
// the sign-in flow.
type SignInState string

// Sign-in states.
const (
	// Anonymous: nobody is signed in and no step is pending.
	Anonymous SignInState = "anonymous"
	// PasswordChangePending: the right temporary password was given; the
	// account is not signed in until it has a new one.
	PasswordChangePending SignInState = "password_change"
	// SignedIn: the account is signed in.
	SignedIn SignInState = "signed_in"
)

// signInEvent is what moves a browser from one state to the next.
type signInEvent string

const (
	// passwordVerified: the right password of an account that may sign in.
	passwordVerified signInEvent = "password verified"
	// temporaryPasswordVerified: the same, for a password that must change.
	temporaryPasswordVerified signInEvent = "temporary password verified"
	// passwordChanged: the temporary password was replaced.
	passwordChanged signInEvent = "password changed"
	// passwordReset: a new password was set with an emailed link.
	passwordReset signInEvent = "password reset"
)

// errWrongState: a sign-in step was attempted from a state it does not
// start from.
var errWrongState = errors.New("flows: sign-in step out of order")

// pendingStepTTL bounds how long a pending step (the password change) waits
// after the password was verified.
const pendingStepTTL = 15 * time.Minute

// next is the state event e leads to from s. The password step may start
// from any state (signing in again, or as someone else, starts over); the
// password change only from PasswordChangePending.
func (s SignInState) next(e signInEvent) (SignInState, error) {
	switch {
	case e == passwordVerified || e == passwordReset:
		return SignedIn, nil
	case e == temporaryPasswordVerified:
		return PasswordChangePending, nil
	case e == passwordChanged && s == PasswordChangePending:
		return SignedIn, nil
	}
	return s, fmt.Errorf("%w: %s in state %s", errWrongState, e, s)
}

// signIn is the sign-in flow's state in one browser at one institution:
// the whole of what its session carries. The session store keeps it as
// one opaque value (encode, decodeSignIn) and knows none of its fields.
type signIn struct {
	State SignInState `json:"state"`
	// Account is the signed-in account, or the account of the pending step.
	Account string `json:"account,omitempty"`
	// AuthTime and Methods (RFC 8176: "pwd", "otp") say how the signed-in
	// account authenticated.
	AuthTime time.Time `json:"auth_time,omitzero"`
	Methods  []string  `json:"amr,omitempty"`
	// Deadline ends a pending step; ReturnTo is the authorization request
	// it resumes.
	Deadline time.Time `json:"deadline,omitzero"`
	ReturnTo string    `json:"return_to,omitempty"`
	// Resume is an authorization request the browser left to follow an
	// emailed link (recovery): the link's page resumes it when it is used
	// in this browser before ResumeUntil.
	Resume      string    `json:"resume,omitempty"`
	ResumeUntil time.Time `json:"resume_until,omitzero"`
}

// signInVersion is the version of the encoded state. A session written in
// another version is read as nobody signed in: signing in again is the worst
// an upgrade costs.
const signInVersion = 1

// encodedSignIn is the stored form of a signIn.
type encodedSignIn struct {
	Version int `json:"v"`
	signIn
}

// encode returns the stored form of s.
func (s signIn) encode() ([]byte, error) {
	b, err := json.Marshal(encodedSignIn{Version: signInVersion, signIn: s})
	if err != nil {
		return nil, fmt.Errorf("encode sign-in state: %w", err)
	}
	return b, nil
}

// decodeSignIn reads a stored state; nothing stored, or another version,
// is Anonymous.
func decodeSignIn(data []byte) (signIn, error) {
	if len(data) == 0 {
		return signIn{State: Anonymous}, nil
	}
	var e encodedSignIn
	if err := json.Unmarshal(data, &e); err != nil {
		return signIn{State: Anonymous}, fmt.Errorf("decode sign-in state: %w", err)
	}
	if e.Version != signInVersion {
		return signIn{State: Anonymous}, nil
	}
	return e.signIn, nil
}

// current is the state as it stands at now: a state without what it needs
// (its account, its time), or a pending step past its deadline, is
// Anonymous.
func (s signIn) current(now time.Time) SignInState {
	switch {
	case s.Account == "":
		return Anonymous
	case s.State == SignedIn && !s.AuthTime.IsZero():
		return SignedIn
	case s.State == PasswordChangePending && now.Before(s.Deadline):
		return PasswordChangePending
	}
	return Anonymous
}

// next is the state event e leads to for account at now. A pending step
// keeps the request to resume; signing in keeps nothing of the steps, nor a
// request left for a link.
func (s signIn) next(e signInEvent, account string, now time.Time, rt returnTo) (signIn, error) {
	state, err := s.current(now).next(e)
	if err != nil {
		return s, err
	}
	switch state {
	case SignedIn:
		return signIn{State: SignedIn, Account: account, AuthTime: now, Methods: []string{"pwd"}}, nil
	default:
		out := signIn{State: state, Account: account, Deadline: now.Add(pendingStepTTL)}
		if rt.valid() {
			out.ReturnTo = rt.raw
		}
		return out, nil
	}
}

// owner is the account the session belongs to, by which the store indexes
// it ("" for none): signed in or in a step of signing in.
func (s signIn) owner() string {
	if s.State == Anonymous {
		return ""
	}
	return s.Account
}

// resumeTTL is how long a request left for an emailed link waits.
const resumeTTL = time.Hour

// leave returns s with rt left to be resumed after an emailed link.
func (s signIn) leave(rt returnTo, now time.Time) signIn {
	s.Resume, s.ResumeUntil = rt.raw, now.Add(resumeTTL)
	return s
}

// resumable is the request left for an emailed link, if it still waits.
func (s signIn) resumable(slug string, now time.Time) returnTo {
	if s.Resume == "" || !now.Before(s.ResumeUntil) {
		return returnTo{}
	}
	rt, _ := parseReturnTo(slug, s.Resume)
	return rt
}
