package mockphp

import (
	"encoding/json"
	"net/http"
)

// handleSMARTConfig serves .well-known/smart-configuration: where the token
// endpoint is and what it accepts.
func (s *Server) handleSMARTConfig(w http.ResponseWriter, r *http.Request) {
	origin := s.origin(r)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                origin,
		"token_endpoint":                        origin + TokenPath,
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS384", "ES384"},
		"grant_types_supported":                            []string{"client_credentials"},
		"scopes_supported":                                 []string{"system/*.read", "system/*.rs", "system/*.write", "system/*.cruds"},
		"capabilities":                                     []string{"client-confidential-asymmetric", "permission-v1", "permission-v2"},
	})
}

// handleMetadata serves the CapabilityStatement.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	origin := s.origin(r)
	interactions := func(names ...string) []any {
		out := make([]any, len(names))
		for i, n := range names {
			out[i] = object{"code": n}
		}
		return out
	}
	var resources []any
	for _, t := range resourceTypes {
		params := []any{
			object{"name": "_id", "type": "token"},
			object{"name": "_lastUpdated", "type": "date"},
		}
		for _, p := range searchParams[t] {
			typ := "token"
			switch p {
			case "patient", "subject", "result", "related":
				typ = "reference"
			case "location":
				typ = "uri"
			case "date":
				typ = "date"
			case "name", "family", "given":
				typ = "string"
			}
			params = append(params, object{"name": p, "type": typ})
		}
		resources = append(resources, object{
			"type":              t,
			"versioning":        "versioned-update",
			"readHistory":       true,
			"updateCreate":      true,
			"conditionalUpdate": false,
			"interaction":       interactions("read", "vread", "update", "delete", "history-instance", "create", "search-type"),
			"searchParam":       params,
		})
	}
	cs := object{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         formatInstant(s.cfg.Epoch),
		"publisher":    "healthcare-records mock provider",
		"kind":         "instance",
		"software":     object{"name": "mockphp"},
		"implementation": object{
			"description": "Mock Primary Healthcare Provider",
			"url":         origin + s.cfg.BasePath,
		},
		"fhirVersion": "4.0.1",
		"format":      list("application/fhir+json", "json"),
		"rest": list(object{
			"mode": "server",
			"security": object{
				"service": list(concept("SMART-on-FHIR", coding("http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR", "SMART-on-FHIR"))),
				"extension": list(object{
					"url":       "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
					"extension": list(object{"url": "token", "valueUri": origin + TokenPath}),
				}),
			},
			"resource": resources,
		}),
	}
	body, err := encodeResource(cs)
	if err != nil {
		writeOutcome(w, http.StatusInternalServerError, "exception", err.Error())
		return
	}
	w.Header().Set("Content-Type", fhirJSON)
	_, _ = w.Write(body)
}
