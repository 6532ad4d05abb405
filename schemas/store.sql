-- entseg store schema, version 2: one SQLite file per dataset or prediction set.
-- Compiled into libentseg (entseg_schema_sql) and run once when a store is created.
-- Stores written by older versions are moved forward by the migrations in
-- lib/src/store_migrate.c; the byte format of entities.mask is in docs/store-format.md.
-- Version history: 1 = first layout; 2 = entities.declared_area, images_by_source_id,
-- mask_dictionaries.

PRAGMA application_id = 1163088978; -- 0x45535452 "ESTR": marks the file as an entseg store
PRAGMA user_version = 2;

-- Store-level facts: format = entseg-store, kind = gt | pred, creator, options,
-- overlapping_instances = 0 | 1.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT
) WITHOUT ROWID;

CREATE TABLE images (
    id        INTEGER PRIMARY KEY,           -- 1, 2, ... in insertion order
    name      TEXT NOT NULL UNIQUE,          -- e.g. "000000142238"
    width     INTEGER NOT NULL CHECK (width > 0),
    height    INTEGER NOT NULL CHECK (height > 0),
    source    TEXT,                          -- source dataset: coco, ade20k, synth, ...
    split     TEXT,                          -- train, val, ...
    path      TEXT,                          -- image file, for training and rendering
    source_id INTEGER                        -- the source's image id (COCO image_id)
);
CREATE INDEX images_by_source_id ON images (source_id);

-- Source categories (e.g. COCO's 133 panoptic classes); id is the source's id (0 is valid).
CREATE TABLE categories (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    supercategory TEXT,
    isthing       INTEGER NOT NULL DEFAULT -1 -- 1 thing, 0 stuff, -1 unknown
);

-- Open label vocabulary, a tree through parent_id (WordTree style).
CREATE TABLE labels (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    parent_id INTEGER REFERENCES labels (id)
);
INSERT INTO labels (id, name, parent_id) VALUES
    (1, 'unknown', NULL),
    (2, 'blurred', NULL),
    (3, 'supercategory_other', NULL);

-- One row per entity or crowd / ignore region. area and bbox are computed from the mask by
-- the library on insert; mask is the blob of docs/store-format.md.
CREATE TABLE entities (
    id                INTEGER PRIMARY KEY,
    image_id          INTEGER NOT NULL REFERENCES images (id),
    mask              BLOB NOT NULL,
    area              INTEGER NOT NULL,
    bbox_x            REAL NOT NULL,
    bbox_y            REAL NOT NULL,
    bbox_w            REAL NOT NULL,
    bbox_h            REAL NOT NULL,
    is_crowd          INTEGER NOT NULL DEFAULT 0,
    score             REAL NOT NULL DEFAULT 1.0,
    label_id          INTEGER REFERENCES labels (id),
    category_id       INTEGER,                -- source category; NULL = none
    isthing           INTEGER NOT NULL DEFAULT -1,
    source_segment_id INTEGER,                -- segment / annotation id in the source
    declared_area     REAL,                   -- the source's declared area; NULL = none
    source_order      INTEGER NOT NULL        -- position in the source's list for the image
);
-- Reading an image's entities, and scanning in (image, source order), is one index walk.
CREATE INDEX entities_by_image ON entities (image_id, source_order);

-- zstd dictionaries named by mask blobs (coding flag 0x20). The library trains one on a
-- created store's first masks; with it a mask decodes without building zstd's entropy
-- tables, which would otherwise cost more than the rest of the decode.
CREATE TABLE mask_dictionaries (
    id   INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);
