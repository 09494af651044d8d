"""Start a bovine-herd server with one account on loopback; run by .venv-pasture's Python.

    python herd_launch.py PORT HANDLE

Run it in a scratch directory (its SQLite database lives there). Besides
bovine-herd's own routes it has two for the test to drive it, standing in
for the client that would POST to the account's outbox:

    POST /_interop/follow {"target": ACTOR_ID} -> {"id": FOLLOW_ID}
        the account follows ACTOR_ID, through bovine's outbox processing
        (stored, then delivered signed to the target's inbox);
    GET /_interop/following -> {"following": [...], "followers": [...]}
        the account's collections as bovine stored them;
    GET /_interop/inbox -> {"inbox": [...]}
        the ids of what bovine took into the account's inbox.

It imports nothing of stgy's.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any


def main() -> None:
    from bovine.activitystreams.activity_factory import ActivityFactory
    from bovine_herd import BovineHerd
    from bovine_process import handle_outbox_item, process_outbox_item
    from bovine_process.types import ProcessingItem
    from bovine_store import BovineAdminStore, bovine_admin_store
    from bovine_store.models import CollectionItem
    from quart import Quart, request
    from tortoise import Tortoise

    port, handle = int(sys.argv[1]), sys.argv[2]
    domain = f"http://localhost:{port}"
    db_url = "sqlite://herd.sqlite3"

    async def register() -> str:
        async with bovine_admin_store(db_url=db_url, domain=domain) as store:
            await Tortoise.generate_schemas()
            name: str = await store.register(handle)
            return name

    bovine_name = asyncio.run(register())
    app = Quart("herd")
    BovineHerd(app, db_url=db_url)

    async def the_actor() -> Any:
        actor = await BovineAdminStore(domain=domain).actor_for_name(bovine_name)
        await actor.init(session=app.config["session"])
        return actor

    @app.post("/_interop/follow")
    async def follow() -> dict[str, str]:
        target = (await request.get_json())["target"]
        actor = await the_actor()
        activity = ActivityFactory(actor.actor_object.build()).follow(target).build()
        item = await handle_outbox_item(ProcessingItem(actor.actor_id, activity), actor)
        await process_outbox_item(item, actor)
        return {"id": item.data["id"], "actor": actor.actor_id}

    @app.get("/_interop/following")
    async def following() -> dict[str, list[str]]:
        actor = await the_actor()
        result = {}
        for name in ("following", "followers"):
            part_of = getattr(actor.actor_object, name)
            items = await CollectionItem.filter(part_of=part_of).all()
            result[name] = [item.object_id for item in items]
        return result

    @app.get("/_interop/inbox")
    async def inbox() -> dict[str, list[str]]:
        actor = await the_actor()
        part_of = actor.actor_object.build()["inbox"]
        items = await CollectionItem.filter(part_of=part_of).all()
        return {"inbox": [item.object_id for item in items]}

    app.run(host="127.0.0.1", port=port, use_reloader=False)


if __name__ == "__main__":
    main()
