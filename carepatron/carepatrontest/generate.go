package carepatrontest

//go:generate go tool oapi-codegen -config ../../openapi/carepatron.server.cfg.yaml ../../openapi/carepatron.yaml
