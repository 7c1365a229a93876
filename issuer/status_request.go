package issuer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/credence/credence/vc/status"
)

// StatusRequest changes the status of credentials (VC-API's
// /credentials/status, plus a bulk form). Either credentialId or
// credentialIds; action is revoke, suspend or reinstate. The VC-API form
// credentialStatus: [{"type": "BitstringStatusListCredential", "status":
// "revoked" | "suspended" | "active"}] is accepted in place of action.
type StatusRequest struct {
	CredentialID     string           `json:"credentialId,omitempty"`
	CredentialIDs    []string         `json:"credentialIds,omitempty"`
	Action           string           `json:"action,omitempty"`
	Reason           string           `json:"reason,omitempty"`
	CredentialStatus []vcapiStatusReq `json:"credentialStatus,omitempty"`
}

type vcapiStatusReq struct {
	Type   string `json:"type"`
	Status string `json:"status"`
}

// StatusResult reports a status change.
type StatusResult struct {
	Action  string     `json:"action"`
	Updated int        `json:"updated"`
	IDs     []string   `json:"credentialIds"`
	Ops     []StatusOp `json:"ledgerOps"`
}

// StatusOp is one ledger op a status change made.
type StatusOp struct {
	List  string `json:"statusListCredential"`
	Seq   uint64 `json:"seq"`
	Index uint64 `json:"index"`
	Set   int    `json:"set"`
	Clear int    `json:"clear"`
}

// normalize checks the request and returns the action and the ids.
func (r *StatusRequest) normalize() (string, []string, error) {
	var p fields
	action := r.Action
	for i, cs := range r.CredentialStatus {
		ptr := fmt.Sprintf("/credentialStatus/%d", i)
		if cs.Type != "" && cs.Type != status.TypeListCredential && cs.Type != status.TypeEntry {
			p.add(ptr+"/type", "must be "+status.TypeListCredential)
		}
		a := map[string]string{"revoked": ActionRevoke, "suspended": ActionSuspend, "active": ActionReinstate, "reinstated": ActionReinstate}[cs.Status]
		switch {
		case a == "":
			p.add(ptr+"/status", "revoked, suspended or active")
		case action != "" && action != a:
			p.add(ptr+"/status", "conflicts with the action "+action)
		default:
			action = a
		}
	}
	switch action {
	case ActionRevoke, ActionSuspend, ActionReinstate:
	case "":
		p.add("/action", "required: revoke, suspend or reinstate")
	default:
		p.add("/action", fmt.Sprintf("%q: revoke, suspend or reinstate", action))
	}
	if len(r.Reason) > maxReason || strings.ContainsAny(r.Reason, "\x00") {
		p.add("/reason", fmt.Sprintf("at most %d bytes of text", maxReason))
	}
	ids := slices.Clone(r.CredentialIDs)
	if r.CredentialID != "" {
		ids = append(ids, r.CredentialID)
	}
	switch {
	case len(ids) == 0:
		p.add("/credentialId", "required (or credentialIds)")
	case len(ids) > MaxStatusIDs:
		p.add("/credentialIds", fmt.Sprintf("at most %d per call", MaxStatusIDs))
	}
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if id == "" || seen[id] {
			p.add(fmt.Sprintf("/credentialIds/%d", i), "empty or repeated")
		}
		seen[id] = true
	}
	if len(p) > 0 {
		return "", nil, &Rejection{Malformed: true, Fields: p}
	}
	return action, ids, nil
}
