package carepatron

//go:generate go tool oapi-codegen -config ../openapi/carepatron.client.cfg.yaml ../openapi/carepatron.yaml
