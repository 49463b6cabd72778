"""Everyday use: tags as the member wrote them, states from a list, imports that remember what
they wrote, erasures that are remembered without the person, confirmed address changes, and a
request history that survives erasure.

* ``member_tag``: a member may keep two tags that mean the same for matching ("Losverfahren" and
  "Zufallsauswahl"); the key stays for matching and counting, the position identifies a tag.
* ``municipality.state``: the usual abbreviations and other spellings ("RLP", "NRW", "DE-BY",
  "Freistaat Bayern") become the state's name (``models/states.py``); a place that then exists
  twice is merged into one. States the list does not know are left as they are.
* ``member_import``: per imported member, the values the last import wrote, so that a re-import
  changes only what the file changed, and never what the member changed since.
* ``erased_identity``: keyed hashes (HMAC under ``server_key``) of the e-mail address and import
  id of an erased member, kept two years, so that an import never brings them back.
* ``member_email_change``: a member's new address, until a link sent to it confirms it.
* ``erased_request``: the consultation requests of erased members, without anyone's identity
  (status and times, and a random key per erased colleague), so that the insights' request flow
  does not change when someone is erased.
* ``pending_import``: a file the coordinator uploaded for a preview, for a day.

Small tables, and one pass over the municipalities: the migration takes a moment at any size.

Revision ID: 0013_everyday_use
Revises: 0012_identity
Create Date: 2026-12-08 12:00
"""

import sqlalchemy as sa

from alembic import op

revision = "0013_everyday_use"
down_revision = "0012_identity"
branch_labels = None
depends_on = None

# The state names as models/states.py maps them, frozen here: the folded spelling without
# spaces (municipality.state_key without its spaces) -> (state, its state_key).
STATES = {
    "aargau": ("Aargau", "aargau"),
    "ag": ("Aargau", "aargau"),
    "ai": ("Appenzell Innerrhoden", "appenzell innerrhoden"),
    "appenzellausserrhoden": ("Appenzell Ausserrhoden", "appenzell ausserrhoden"),
    "appenzellinnerrhoden": ("Appenzell Innerrhoden", "appenzell innerrhoden"),
    "ar": ("Appenzell Ausserrhoden", "appenzell ausserrhoden"),
    "at1": ("Burgenland", "burgenland"),
    "at2": ("Kärnten", "kaernten"),
    "at3": ("Niederösterreich", "niederoesterreich"),
    "at4": ("Oberösterreich", "oberoesterreich"),
    "at5": ("Salzburg", "salzburg"),
    "at6": ("Steiermark", "steiermark"),
    "at7": ("Tirol", "tirol"),
    "at8": ("Vorarlberg", "vorarlberg"),
    "at9": ("Wien", "wien"),
    "badenwuerttemberg": ("Baden-Württemberg", "baden wuerttemberg"),
    "basel": ("Basel-Stadt", "basel stadt"),
    "baselland": ("Basel-Landschaft", "basel landschaft"),
    "basellandschaft": ("Basel-Landschaft", "basel landschaft"),
    "baselstadt": ("Basel-Stadt", "basel stadt"),
    "bawue": ("Baden-Württemberg", "baden wuerttemberg"),
    "bayern": ("Bayern", "bayern"),
    "bb": ("Brandenburg", "brandenburg"),
    "be": ("Berlin", "berlin"),
    "berlin": ("Berlin", "berlin"),
    "bern": ("Bern", "bern"),
    "bgld": ("Burgenland", "burgenland"),
    "bl": ("Basel-Landschaft", "basel landschaft"),
    "brandenburg": ("Brandenburg", "brandenburg"),
    "bremen": ("Bremen", "bremen"),
    "bs": ("Basel-Stadt", "basel stadt"),
    "burgenland": ("Burgenland", "burgenland"),
    "bw": ("Baden-Württemberg", "baden wuerttemberg"),
    "by": ("Bayern", "bayern"),
    "chag": ("Aargau", "aargau"),
    "chai": ("Appenzell Innerrhoden", "appenzell innerrhoden"),
    "char": ("Appenzell Ausserrhoden", "appenzell ausserrhoden"),
    "chbe": ("Bern", "bern"),
    "chbl": ("Basel-Landschaft", "basel landschaft"),
    "chbs": ("Basel-Stadt", "basel stadt"),
    "chfr": ("Freiburg", "freiburg"),
    "chge": ("Genf", "genf"),
    "chgl": ("Glarus", "glarus"),
    "chgr": ("Graubünden", "graubuenden"),
    "chju": ("Jura", "jura"),
    "chlu": ("Luzern", "luzern"),
    "chne": ("Neuenburg", "neuenburg"),
    "chnw": ("Nidwalden", "nidwalden"),
    "chow": ("Obwalden", "obwalden"),
    "chsg": ("St. Gallen", "st gallen"),
    "chsh": ("Schaffhausen", "schaffhausen"),
    "chso": ("Solothurn", "solothurn"),
    "chsz": ("Schwyz", "schwyz"),
    "chtg": ("Thurgau", "thurgau"),
    "chti": ("Tessin", "tessin"),
    "chur": ("Uri", "uri"),
    "chvd": ("Waadt", "waadt"),
    "chvs": ("Wallis", "wallis"),
    "chzg": ("Zug", "zug"),
    "chzh": ("Zürich", "zuerich"),
    "debb": ("Brandenburg", "brandenburg"),
    "debe": ("Berlin", "berlin"),
    "debw": ("Baden-Württemberg", "baden wuerttemberg"),
    "deby": ("Bayern", "bayern"),
    "dehb": ("Bremen", "bremen"),
    "dehe": ("Hessen", "hessen"),
    "dehh": ("Hamburg", "hamburg"),
    "demv": ("Mecklenburg-Vorpommern", "mecklenburg vorpommern"),
    "deni": ("Niedersachsen", "niedersachsen"),
    "denw": ("Nordrhein-Westfalen", "nordrhein westfalen"),
    "derp": ("Rheinland-Pfalz", "rheinland pfalz"),
    "desh": ("Schleswig-Holstein", "schleswig holstein"),
    "desl": ("Saarland", "saarland"),
    "desn": ("Sachsen", "sachsen"),
    "dest": ("Sachsen-Anhalt", "sachsen anhalt"),
    "deth": ("Thüringen", "thueringen"),
    "fr": ("Freiburg", "freiburg"),
    "freiburg": ("Freiburg", "freiburg"),
    "freiehansestadtbremen": ("Bremen", "bremen"),
    "freieundhansestadthamburg": ("Hamburg", "hamburg"),
    "freistaatbayern": ("Bayern", "bayern"),
    "freistaatsachsen": ("Sachsen", "sachsen"),
    "freistaatthueringen": ("Thüringen", "thueringen"),
    "fribourg": ("Freiburg", "freiburg"),
    "ge": ("Genf", "genf"),
    "geneve": ("Genf", "genf"),
    "genf": ("Genf", "genf"),
    "gl": ("Glarus", "glarus"),
    "glarus": ("Glarus", "glarus"),
    "gr": ("Graubünden", "graubuenden"),
    "graubuenden": ("Graubünden", "graubuenden"),
    "hamburg": ("Hamburg", "hamburg"),
    "hb": ("Bremen", "bremen"),
    "he": ("Hessen", "hessen"),
    "hessen": ("Hessen", "hessen"),
    "hh": ("Hamburg", "hamburg"),
    "ju": ("Jura", "jura"),
    "jura": ("Jura", "jura"),
    "kaernten": ("Kärnten", "kaernten"),
    "ktn": ("Kärnten", "kaernten"),
    "landberlin": ("Berlin", "berlin"),
    "landbrandenburg": ("Brandenburg", "brandenburg"),
    "lsa": ("Sachsen-Anhalt", "sachsen anhalt"),
    "lu": ("Luzern", "luzern"),
    "luzern": ("Luzern", "luzern"),
    "mecklenburgvorpommern": ("Mecklenburg-Vorpommern", "mecklenburg vorpommern"),
    "meckpomm": ("Mecklenburg-Vorpommern", "mecklenburg vorpommern"),
    "mv": ("Mecklenburg-Vorpommern", "mecklenburg vorpommern"),
    "ne": ("Neuenburg", "neuenburg"),
    "neuchatel": ("Neuenburg", "neuenburg"),
    "neuenburg": ("Neuenburg", "neuenburg"),
    "ni": ("Niedersachsen", "niedersachsen"),
    "nidwalden": ("Nidwalden", "nidwalden"),
    "niederoesterreich": ("Niederösterreich", "niederoesterreich"),
    "niedersachsen": ("Niedersachsen", "niedersachsen"),
    "noe": ("Niederösterreich", "niederoesterreich"),
    "nordrheinwestfalen": ("Nordrhein-Westfalen", "nordrhein westfalen"),
    "nrw": ("Nordrhein-Westfalen", "nordrhein westfalen"),
    "nw": ("Nordrhein-Westfalen", "nordrhein westfalen"),
    "oberoesterreich": ("Oberösterreich", "oberoesterreich"),
    "obwalden": ("Obwalden", "obwalden"),
    "ooe": ("Oberösterreich", "oberoesterreich"),
    "ow": ("Obwalden", "obwalden"),
    "rheinlandpfalz": ("Rheinland-Pfalz", "rheinland pfalz"),
    "rlp": ("Rheinland-Pfalz", "rheinland pfalz"),
    "rp": ("Rheinland-Pfalz", "rheinland pfalz"),
    "saar": ("Saarland", "saarland"),
    "saarland": ("Saarland", "saarland"),
    "sachsen": ("Sachsen", "sachsen"),
    "sachsenanhalt": ("Sachsen-Anhalt", "sachsen anhalt"),
    "salzburg": ("Salzburg", "salzburg"),
    "sanktgallen": ("St. Gallen", "st gallen"),
    "sbg": ("Salzburg", "salzburg"),
    "schaffhausen": ("Schaffhausen", "schaffhausen"),
    "schleswigholstein": ("Schleswig-Holstein", "schleswig holstein"),
    "schwyz": ("Schwyz", "schwyz"),
    "sg": ("St. Gallen", "st gallen"),
    "sh": ("Schleswig-Holstein", "schleswig holstein"),
    "sl": ("Saarland", "saarland"),
    "sn": ("Sachsen", "sachsen"),
    "so": ("Solothurn", "solothurn"),
    "solothurn": ("Solothurn", "solothurn"),
    "st": ("Sachsen-Anhalt", "sachsen anhalt"),
    "steiermark": ("Steiermark", "steiermark"),
    "stgallen": ("St. Gallen", "st gallen"),
    "stmk": ("Steiermark", "steiermark"),
    "sz": ("Schwyz", "schwyz"),
    "tessin": ("Tessin", "tessin"),
    "tg": ("Thurgau", "thurgau"),
    "th": ("Thüringen", "thueringen"),
    "thueringen": ("Thüringen", "thueringen"),
    "thurgau": ("Thurgau", "thurgau"),
    "ti": ("Tessin", "tessin"),
    "ticino": ("Tessin", "tessin"),
    "tirol": ("Tirol", "tirol"),
    "ur": ("Uri", "uri"),
    "uri": ("Uri", "uri"),
    "valais": ("Wallis", "wallis"),
    "vaud": ("Waadt", "waadt"),
    "vbg": ("Vorarlberg", "vorarlberg"),
    "vd": ("Waadt", "waadt"),
    "vorarlberg": ("Vorarlberg", "vorarlberg"),
    "vs": ("Wallis", "wallis"),
    "waadt": ("Waadt", "waadt"),
    "wallis": ("Wallis", "wallis"),
    "wien": ("Wien", "wien"),
    "zg": ("Zug", "zug"),
    "zh": ("Zürich", "zuerich"),
    "zuerich": ("Zürich", "zuerich"),
    "zug": ("Zug", "zug"),
}


def _normalize_states() -> None:
    bind = op.get_bind()
    places = bind.execute(
        sa.text("SELECT id, name_key, state_key FROM municipality ORDER BY created_at, id")
    ).fetchall()
    for place_id, name_key, state_key in places:
        found = STATES.get(state_key.replace(" ", ""))
        if found is None or found[1] == state_key:
            continue
        state, new_key = found
        twin = bind.execute(
            sa.text(
                "SELECT id FROM municipality WHERE name_key = :name AND state_key = :state "
                "AND id <> :id"
            ),
            {"name": name_key, "state": new_key, "id": place_id},
        ).scalar()
        if twin is None:
            bind.execute(
                sa.text("UPDATE municipality SET state = :state, state_key = :key WHERE id = :id"),
                {"state": state, "key": new_key, "id": place_id},
            )
        else:
            bind.execute(
                sa.text("UPDATE member SET municipality_id = :twin WHERE municipality_id = :id"),
                {"twin": twin, "id": place_id},
            )
            bind.execute(sa.text("DELETE FROM municipality WHERE id = :id"), {"id": place_id})


def upgrade() -> None:
    op.execute("ALTER TABLE member_tag DROP CONSTRAINT member_tag_pkey")
    op.execute(
        "ALTER TABLE member_tag ADD CONSTRAINT member_tag_pkey PRIMARY KEY (member_id, position)"
    )
    op.execute("CREATE INDEX member_tag_member_key_idx ON member_tag (member_id, tag_key)")
    _normalize_states()
    op.execute(
        """
        CREATE TABLE member_import (
            member_id   uuid PRIMARY KEY
                        CONSTRAINT member_import_member_fkey REFERENCES member (id)
                        ON DELETE CASCADE,
            -- the values the last import wrote, field by field, as the import file gave them
            fields      jsonb NOT NULL,
            imported_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE server_key (
            name  text PRIMARY KEY,
            key   bytea NOT NULL
        )
        """
    )
    op.execute(
        """
        INSERT INTO server_key (name, key)
        VALUES ('erasure', sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
                                             || clock_timestamp()::text, 'UTF8')))
        """
    )
    op.execute(
        """
        CREATE TABLE erased_identity (
            key_hash  bytea PRIMARY KEY,
            erased_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE member_email_change (
            member_id   uuid PRIMARY KEY
                        CONSTRAINT member_email_change_member_fkey REFERENCES member (id)
                        ON DELETE CASCADE,
            new_email   text NOT NULL,
            secret_hash bytea NOT NULL CONSTRAINT member_email_change_secret_key UNIQUE,
            created_at  timestamptz NOT NULL DEFAULT now(),
            expires_at  timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE erased_request (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            status       text NOT NULL,
            -- a random key per erased colleague, so the share of the most-asked counts right
            peer_key     uuid NOT NULL,
            created_at   timestamptz NOT NULL,
            expires_at   timestamptz NOT NULL,
            responded_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX erased_request_created_idx ON erased_request (created_at)")
    op.execute(
        """
        CREATE TABLE pending_import (
            id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            file_name   text NOT NULL,
            content     bytea NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    for table in (
        "pending_import",
        "erased_request",
        "member_email_change",
        "erased_identity",
        "server_key",
        "member_import",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.execute("DROP INDEX IF EXISTS member_tag_member_key_idx")
    # A member keeps the first of their tags with one key, as before.
    op.execute(
        """
        DELETE FROM member_tag t USING member_tag first
        WHERE first.member_id = t.member_id AND first.tag_key = t.tag_key
          AND first.position < t.position
        """
    )
    op.execute("ALTER TABLE member_tag DROP CONSTRAINT member_tag_pkey")
    op.execute(
        "ALTER TABLE member_tag ADD CONSTRAINT member_tag_pkey PRIMARY KEY (member_id, tag_key)"
    )
