"""OCPP 2.0.1: the charging station handlers (`handlers.ChargePoint201`) and outbound
requests."""
