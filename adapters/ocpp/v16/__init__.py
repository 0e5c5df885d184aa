"""OCPP 1.6J: the charge point handlers (`handlers.ChargePoint16`) and outbound requests."""
