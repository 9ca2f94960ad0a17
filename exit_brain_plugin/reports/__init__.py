"""Reports over what the brain did: freqtrade backtest exports and trade databases."""
