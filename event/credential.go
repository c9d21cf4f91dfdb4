package event

// CredentialType names a kind of credential: the credential_type member of CAEP §3.3
// credential-change (CAEP-8) and of RISC §2.7 credential-compromise (RISC-8), which
// takes its values from the CAEP list.
//
// CAEP-8 allows the listed values "or any other type both parties support", so any
// non-empty value is valid; IsStandard tells whether a value is one of the listed ones.
type CredentialType string

// The credential types CAEP §3.3 lists.
const (
	CredentialTypePassword             CredentialType = "password"
	CredentialTypePIN                  CredentialType = "pin"
	CredentialTypeX509                 CredentialType = "x509"
	CredentialTypeFIDO2Platform        CredentialType = "fido2-platform"
	CredentialTypeFIDO2Roaming         CredentialType = "fido2-roaming"
	CredentialTypeFIDOU2F              CredentialType = "fido-u2f"
	CredentialTypeVerifiableCredential CredentialType = "verifiable-credential"
	CredentialTypePhoneVoice           CredentialType = "phone-voice"
	CredentialTypePhoneSMS             CredentialType = "phone-sms"
	CredentialTypeApp                  CredentialType = "app"
)

// IsStandard reports whether t is one of the credential types CAEP §3.3 lists.
func (t CredentialType) IsStandard() bool {
	switch t {
	case CredentialTypePassword, CredentialTypePIN, CredentialTypeX509,
		CredentialTypeFIDO2Platform, CredentialTypeFIDO2Roaming, CredentialTypeFIDOU2F,
		CredentialTypeVerifiableCredential, CredentialTypePhoneVoice,
		CredentialTypePhoneSMS, CredentialTypeApp:
		return true
	}
	return false
}
