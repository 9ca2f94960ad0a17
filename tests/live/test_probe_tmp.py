from tests.live.offscript import start
from tests.live.bot_harness import exit_orders, brain_lines

def test_probe(live, caplog):
    start(live, side="short", leverage=10.0)
    trade = live.open_trade()
    print(trade, trade.amount, trade.stop_loss, trade.leverage, trade.is_short, live.state())
    live.walk([0.0995, 0.0989])
    trade = live.trade()
    print(exit_orders(trade), trade.stop_loss, live.state())
    live.walk([0.098, 0.0979])
    trade = live.trade()
    print(exit_orders(trade), trade.stop_loss, live.state())
    print("\n".join(brain_lines(caplog)))
