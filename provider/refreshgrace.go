package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/storage"
)

// Refresh tokens rotate: each use deactivates the token and issues a
// successor. A rotated token may be used again only within the grace period
// (Lifespans.RefreshGrace) and only while its successor is unused, and then
// it gets the very answer its rotation gave, the same successor included
// (only expires_in counts down): browser tabs refreshing at once all carry
// on with one token, and the family never forks. Any other use of a rotated
// token is reuse, and fosite revokes the whole family.
//
// The answer is kept for the grace period as a record of KindSuccessor under
// the rotated token's signature key, sealed under a key of the master secret
// and bound to that signature, so the database never holds a readable token.
// The janitor removes it once expired.

// successorSealPurpose is the purpose of the key that seals kept answers.
const successorSealPurpose = "refresh-successors"

// errAnswerAgain: the refresh token this request presented was rotated by a
// concurrent request, whose answer this one gets (tokenRequest.replay).
var errAnswerAgain = errors.New("refresh token rotated by a concurrent request: its answer is given again")

// keptAnswer is what a successor record seals.
type keptAnswer struct {
	Response map[string]any `json:"response"`
	IssuedAt time.Time      `json:"issued_at"`
}

// successorAD binds a sealed answer to the rotated token it answered.
func successorAD(rotated string) []byte { return []byte("refresh-successor\x00" + rotated) }

// replayable returns the successor record of rec, a rotated refresh token,
// when rec may be used again: within the grace period and while the
// successor is unused. Otherwise nil.
func (f *fositeStore) replayable(ctx context.Context, rec *storage.OAuth2Record) (*storage.OAuth2Record, error) {
	if !f.inGrace(rec) {
		return nil, nil
	}
	succ, err := f.s.GetOAuth2(ctx, storage.KindSuccessor, rec.Signature)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	next, err := f.s.GetOAuth2(ctx, storage.KindRefresh, succ.AccessSignature)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !next.Active) {
		return nil, nil // the successor was used, or its family revoked
	}
	if err != nil {
		return nil, err
	}
	return succ, nil
}

func (f *fositeStore) inGrace(rec *storage.OAuth2Record) bool {
	return f.life.RefreshGrace > 0 && rec.UsedAt != nil && f.now().Before(rec.UsedAt.Add(f.life.RefreshGrace))
}

// keepAnswer stores, with the rotation's write, the answer to a request
// that rotated a refresh token, for the grace period.
func (f *fositeStore) keepAnswer(ctx context.Context, tr *tokenRequest, ar fosite.AccessRequester, resp fosite.AccessResponder) error {
	if tr.rotated == "" || tr.successor == "" || f.life.RefreshGrace <= 0 {
		return nil
	}
	now := f.now()
	body, err := json.Marshal(keptAnswer{Response: resp.ToMap(), IssuedAt: now})
	if err != nil {
		return fmt.Errorf("keep the answer of a rotation: %w", err)
	}
	rec := &storage.OAuth2Record{
		Kind: storage.KindSuccessor, Signature: tr.rotated, RequestID: ar.GetID(), RequestedAt: now,
		ClientID: ar.GetClient().GetID(), Subject: ar.GetSession().GetSubject(),
		Session: f.successors.Seal(body, successorAD(tr.rotated)), AccessSignature: tr.successor,
		Active: true, ExpiresAt: now.Add(f.life.RefreshGrace),
	}
	if err := f.add(ctx, rec); err != nil {
		return fmt.Errorf("keep the answer of a rotation: %w", err)
	}
	return nil
}

// answerAgain opens the answer a successor record keeps, its expires_in
// counted down to now.
func (f *fositeStore) answerAgain(succ *storage.OAuth2Record) (*fosite.AccessResponse, error) {
	body, err := f.successors.Open(succ.Session, successorAD(succ.Signature))
	if err != nil {
		return nil, fmt.Errorf("open the answer of a rotation: %w", err)
	}
	var kept keptAnswer
	if err := json.Unmarshal(body, &kept); err != nil {
		return nil, fmt.Errorf("decode the answer of a rotation: %w", err)
	}
	resp := fosite.NewAccessResponse()
	for k, v := range kept.Response {
		resp.SetExtra(k, v)
	}
	resp.AccessToken, _ = kept.Response["access_token"].(string)
	resp.TokenType, _ = kept.Response["token_type"].(string)
	if in, ok := kept.Response["expires_in"].(float64); ok {
		left := time.Duration(in)*time.Second - f.now().Sub(kept.IssuedAt)
		resp.SetExpiresIn(max(left, 0))
	}
	return resp, nil
}
