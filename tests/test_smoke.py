from harness import GatewayHarness


async def test_register(gw: GatewayHarness) -> None:
    account = await gw.register()
    assert account.access_token
