package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/risc"
	"github.com/sigshare/sigshare/subject"
)

// sample is one example event of a type: its subject and payload, as an operator
// would send them to the admin API.
type sample struct {
	subject string
	payload string
}

const (
	userIssSub = `{"format":"iss_sub","iss":"https://idp.example.com/","sub":"u-7d2a"}`
	userEmail  = `{"format":"email","email":"alice@example.com"}`
)

// samples holds an example of every CAEP 1.0 and RISC 1.0 event type a transmitter may
// emit (the payloads follow the examples of the specifications).
var samples = map[string]sample{
	caep.EventTypeSessionRevoked: {
		`{"format":"complex","session":{"format":"opaque","id":"dMTlD|1600802906337.16|16008.16"},"user":` + userIssSub + `,"tenant":{"format":"opaque","id":"123456789"}}`,
		`{"initiating_entity":"policy","reason_admin":{"en":"Landspeed Policy Violation: C076E82F"},"reason_user":{"en":"Access attempt from multiple regions."}}`},
	caep.EventTypeTokenClaimsChange: {
		`{"format":"jwt_id","iss":"https://idp.example.com/","jti":"f61t6e20zdo3px56gepu8rzlsp4c1dpc0fx7"}`,
		`{"claims":{"role":"ro-admin"}}`},
	caep.EventTypeCredentialChange: {userIssSub,
		`{"credential_type":"fido2-roaming","change_type":"create","friendly_name":"Alice's security key","initiating_entity":"user"}`},
	caep.EventTypeAssuranceLevelChange: {userIssSub,
		`{"namespace":"NIST-AAL","current_level":"nist-aal2","previous_level":"nist-aal1","change_direction":"increase","initiating_entity":"user"}`},
	caep.EventTypeDeviceComplianceChange: {
		`{"format":"complex","device":{"format":"iss_sub","iss":"https://idp.example.com/","sub":"e9297990-14d2-42ec-a4a9-4036db86509a"},"tenant":{"format":"opaque","id":"123456789"}}`,
		`{"current_status":"not-compliant","previous_status":"compliant","initiating_entity":"policy"}`},
	caep.EventTypeSessionEstablished: {userEmail, `{"fp_ua":"abb0b6e7da81a42233f8f2b1a8ddb1b9a4c81611","acr":"AAL2","amr":["otp"]}`},
	caep.EventTypeSessionPresented:   {userEmail, `{"fp_ua":"abb0b6e7da81a42233f8f2b1a8ddb1b9a4c81611","ext_id":"12345"}`},
	caep.EventTypeRiskLevelChange: {userIssSub,
		`{"current_level":"HIGH","previous_level":"LOW","principal":"USER","risk_reason":"PASSWORD_FOUND_IN_DATA_BREACH"}`},

	risc.EventTypeAccountCredentialChangeRequired: {userIssSub, `{}`},
	risc.EventTypeAccountPurged:                   {userIssSub, `{}`},
	risc.EventTypeAccountDisabled:                 {userIssSub, `{"reason":"hijacking"}`},
	risc.EventTypeAccountEnabled:                  {userIssSub, `{}`},
	risc.EventTypeIdentifierChanged:               {userEmail, `{"new-value":"alice.smith@example.com"}`},
	risc.EventTypeIdentifierRecycled:              {`{"format":"email","email":"bob@example.com"}`, `{}`},
	risc.EventTypeCredentialCompromise:            {userIssSub, `{"credential_type":"password"}`},
	risc.EventTypeOptIn:                           {userIssSub, `{}`},
	risc.EventTypeOptOutInitiated:                 {userIssSub, `{}`},
	risc.EventTypeOptOutCancelled:                 {userIssSub, `{}`},
	risc.EventTypeOptOutEffective:                 {userIssSub, `{}`},
	risc.EventTypeRecoveryActivated:               {userIssSub, `{}`},
	risc.EventTypeRecoveryInformationChanged:      {userIssSub, `{}`},
}

// build decodes the sample of typeURI through reg; CAEP events get event_timestamp now.
func (s sample) build(reg *event.Registry, typeURI string, now time.Time) (subject.Identifier, event.Event, error) {
	subj, err := subject.Parse([]byte(s.subject))
	if err != nil {
		return nil, nil, fmt.Errorf("sample subject of %s: %w", typeURI, err)
	}
	payload := []byte(s.payload)
	if namespace(typeURI) == "caep" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(payload, &m); err != nil {
			return nil, nil, err
		}
		m["event_timestamp"] = json.RawMessage(fmt.Sprint(now.Unix()))
		if payload, err = json.Marshal(m); err != nil {
			return nil, nil, err
		}
	}
	ev, err := reg.Decode(typeURI, payload)
	if err != nil {
		return nil, nil, fmt.Errorf("sample payload of %s: %w", typeURI, err)
	}
	return subj, ev, nil
}
