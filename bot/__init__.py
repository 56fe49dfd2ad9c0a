"""Belarus Ties Bot: sourced answers on Belarus's relations with Azerbaijan and Iran."""
