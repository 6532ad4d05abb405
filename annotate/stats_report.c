/* stats_report.c: the dataset statistics as a text table and as JSON. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "file_util.h"
#include "stats.h"

const char *es_stats_definitions(void) {
    return "resolution = (mean width + mean height) / 2; entities = non-crowd entities per "
           "image (mean, max); complexity = convexity = area / area of the convex hull of the "
           "pixel squares; simplicity = sqrt(4*pi*area) / outer-border length through pixel "
           "centres (sqrt 2 per diagonal step, as OpenCV arcLength of findContours), "
           "single-pixel entities left out; valid area = mean over images of the fraction of "
           "pixels covered by entities; crowd/ignore rows skipped";
}

void es_dataset_stats_print(const es_dataset_stats *s, FILE *f) {
    const es_stats_group *all = &s->groups[0];
    fprintf(f, "%s: %llu images, %llu entities, %llu crowd/ignore rows skipped\n", s->store_path,
            (unsigned long long)all->images, (unsigned long long)all->entities,
            (unsigned long long)all->crowd_skipped);
    fprintf(f, "definitions: %s\n", es_stats_definitions());
    fprintf(f, "%-14s %7s %8s %8s %10s %8s %5s %10s %10s %10s\n", "source", "images", "width",
            "height", "resolution", "ent/img", "max", "complexity", "simplicity", "valid_area");
    for (size_t g = 0; g < s->n_groups; g++) {
        const es_stats_group *x = &s->groups[g];
        fprintf(f, "%-14.14s %7llu %8.1f %8.1f %10.1f %8.2f %5llu %10.3f %10.3f %10.3f\n", x->source,
                (unsigned long long)x->images, x->mean_width, x->mean_height, x->resolution,
                x->entities_per_image, (unsigned long long)x->max_entities, x->complexity,
                x->simplicity, x->valid_area);
    }
}

static cJSON *group_json(const es_stats_group *x) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "source", x->source);
    cJSON_AddNumberToObject(o, "images", (double)x->images);
    cJSON_AddNumberToObject(o, "entities", (double)x->entities);
    cJSON_AddNumberToObject(o, "crowd_skipped", (double)x->crowd_skipped);
    cJSON_AddNumberToObject(o, "mean_width", x->mean_width);
    cJSON_AddNumberToObject(o, "mean_height", x->mean_height);
    cJSON_AddNumberToObject(o, "resolution", x->resolution);
    cJSON_AddNumberToObject(o, "mean_sqrt_pixels", x->mean_sqrt_pixels);
    cJSON_AddNumberToObject(o, "entities_per_image", x->entities_per_image);
    cJSON_AddNumberToObject(o, "max_entities", (double)x->max_entities);
    cJSON_AddNumberToObject(o, "complexity", x->complexity);
    cJSON_AddNumberToObject(o, "complexity_centres", x->complexity_centres);
    cJSON_AddNumberToObject(o, "simplicity", x->simplicity);
    cJSON_AddNumberToObject(o, "simplicity_skipped", (double)x->simplicity_skipped);
    cJSON_AddNumberToObject(o, "valid_area", x->valid_area);
    cJSON_AddNumberToObject(o, "valid_area_pooled", x->valid_area_pooled);
    return o;
}

int es_dataset_stats_write_json(const es_dataset_stats *s, const char *path, es_error *err) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    cJSON_AddStringToObject(root, "store", s->store_path);
    cJSON_AddStringToObject(root, "definitions", es_stats_definitions());
    cJSON_AddStringToObject(root, "resolution_column", "(mean_width + mean_height) / 2");
    cJSON *groups = cJSON_AddArrayToObject(root, "groups");
    for (size_t g = 0; g < s->n_groups; g++) cJSON_AddItemToArray(groups, group_json(&s->groups[g]));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    int rc = es_write_file(path, text, err);
    free(text);
    return rc;
}
