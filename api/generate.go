package api

//go:generate go tool oapi-codegen -config ../openapi/api.server.cfg.yaml ../openapi/api.yaml
