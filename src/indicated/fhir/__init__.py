"""FHIR R4 in and out: Bundles read into a Case, CDS Hooks (Da Vinci CRD) and prior authorization
(Da Vinci PAS). Nothing here imports ``fhir.resources`` until a FHIR input is actually read."""
