-- Area ranking (table written by the composite-indicator step, when it exists); its shape is read as is.
SELECT * FROM ranking;
