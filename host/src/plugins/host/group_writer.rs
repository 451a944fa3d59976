//! `group-writer`: creating, changing and deleting groups.

use super::{R, StoreView, err};
use crate::contract::iam::plugin::{group_writer, types};

impl group_writer::Host for StoreView<'_> {
    fn create(&mut self, name: String, parent_id: Option<String>) -> R<types::Group> {
        let group = self
            .db()?
            .groups()
            .insert(&name, parent_id.as_deref())
            .map_err(err)?;
        self.audit.group("group created", &group.id, &group.name);
        Ok(group)
    }

    fn set_description(&mut self, id: String, description: Option<String>) -> R<types::Group> {
        let group = self
            .db()?
            .groups()
            .set_description(&id, description.as_deref())
            .map_err(err)?;
        self.audit
            .group("group description updated", &group.id, &group.name);
        Ok(group)
    }

    fn rename(&mut self, id: String, name: String) -> R<types::Group> {
        let group = self.db()?.groups().rename(&id, &name).map_err(err)?;
        self.audit.group("group renamed", &group.id, &group.name);
        Ok(group)
    }

    fn delete(&mut self, id: String) -> R<bool> {
        let db = self.db()?;
        let name = db.groups().by_uuid(&id).map_err(err)?.map(|g| g.name);
        let removed = db.groups().delete(&id).map_err(err)?;
        if removed {
            self.audit
                .group("group removed", &id, name.unwrap_or_default());
        }
        Ok(removed)
    }

    fn touch(&mut self, id: String) -> R<()> {
        self.db()?.groups().touch(&id).map_err(err)
    }
}
