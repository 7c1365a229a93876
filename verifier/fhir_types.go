package verifier

// FHIR R4 data types and resources, as far as the projection uses them.
// Empty elements are left out: FHIR JSON has no empty strings or arrays.

// FHIRVerificationResult is a VerificationResult resource.
type FHIRVerificationResult struct {
	ResourceType      string                `json:"resourceType"`
	Text              *FHIRNarrative        `json:"text,omitempty"`
	Extension         []FHIRExtension       `json:"extension,omitempty"`
	Target            []FHIRReference       `json:"target,omitempty"`
	TargetLocation    []string              `json:"targetLocation,omitempty"`
	Status            string                `json:"status"`
	StatusDate        string                `json:"statusDate,omitempty"`
	ValidationType    *FHIRCodeableConcept  `json:"validationType,omitempty"`
	ValidationProcess []FHIRCodeableConcept `json:"validationProcess,omitempty"`
	LastPerformed     string                `json:"lastPerformed,omitempty"`
	FailureAction     *FHIRCodeableConcept  `json:"failureAction,omitempty"`
	PrimarySource     []FHIRPrimarySource   `json:"primarySource,omitempty"`
	Attestation       *FHIRAttestation      `json:"attestation,omitempty"`
	Validator         []FHIRValidator       `json:"validator,omitempty"`
}

// FHIRPrimarySource is VerificationResult.primarySource.
type FHIRPrimarySource struct {
	Who                 *FHIRReference        `json:"who,omitempty"`
	Type                []FHIRCodeableConcept `json:"type,omitempty"`
	CommunicationMethod []FHIRCodeableConcept `json:"communicationMethod,omitempty"`
	ValidationStatus    *FHIRCodeableConcept  `json:"validationStatus,omitempty"`
	ValidationDate      string                `json:"validationDate,omitempty"`
	CanPushUpdates      *FHIRCodeableConcept  `json:"canPushUpdates,omitempty"`
	PushTypeAvailable   []FHIRCodeableConcept `json:"pushTypeAvailable,omitempty"`
}

// FHIRAttestation is VerificationResult.attestation.
type FHIRAttestation struct {
	CommunicationMethod *FHIRCodeableConcept `json:"communicationMethod,omitempty"`
	Date                string               `json:"date,omitempty"`
}

// FHIRValidator is VerificationResult.validator.
type FHIRValidator struct {
	Organization FHIRReference `json:"organization"`
}

// FHIRBundle is a Bundle resource.
type FHIRBundle struct {
	ResourceType string            `json:"resourceType"`
	Type         string            `json:"type"`
	Timestamp    string            `json:"timestamp,omitempty"`
	Entry        []FHIRBundleEntry `json:"entry,omitempty"`
}

// FHIRBundleEntry is Bundle.entry.
type FHIRBundleEntry struct {
	Resource *FHIRVerificationResult `json:"resource"`
}

// FHIRNarrative is a resource's text.
type FHIRNarrative struct {
	Status string `json:"status"`
	Div    string `json:"div"`
}

// FHIRCodeableConcept is a CodeableConcept.
type FHIRCodeableConcept struct {
	Extension []FHIRExtension `json:"extension,omitempty"`
	Coding    []FHIRCoding    `json:"coding,omitempty"`
	Text      string          `json:"text,omitempty"`
}

// FHIRCoding is a Coding.
type FHIRCoding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// FHIRIdentifier is an Identifier.
type FHIRIdentifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// FHIRReference is a Reference (by identifier: Credence holds no FHIR
// server the reference could resolve on).
type FHIRReference struct {
	Type       string          `json:"type,omitempty"`
	Identifier *FHIRIdentifier `json:"identifier,omitempty"`
	Display    string          `json:"display,omitempty"`
}

// FHIRExtension is an Extension: a value, or sub-extensions (a complex
// extension), never both.
type FHIRExtension struct {
	URL          string          `json:"url"`
	Extension    []FHIRExtension `json:"extension,omitempty"`
	ValueBoolean *bool           `json:"valueBoolean,omitempty"`
	ValueCode    string          `json:"valueCode,omitempty"`
	ValueCoding  *FHIRCoding     `json:"valueCoding,omitempty"`
	ValueString  string          `json:"valueString,omitempty"`
}
